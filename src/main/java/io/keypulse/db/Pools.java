package io.keypulse.db;

import io.keypulse.config.Config;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;

/**
 * Two pools per node, shared by the verticle instances that ask for them: writes (group commits)
 * never wait behind queries, and queries never starve the writer.
 */
public final class Pools {
  private Pools() {}

  public static Pool query(Vertx vertx, Config.Pg pg, PgTarget target) {
    return build(vertx, pg, target, "keypulse-query", pg.queryPoolSize());
  }

  public static Pool write(Vertx vertx, Config.Pg pg, PgTarget target) {
    return build(vertx, pg, target, "keypulse-write", pg.writePoolSize());
  }

  private static Pool build(Vertx vertx, Config.Pg pg, PgTarget target, String name, int size) {
    PoolOptions options = new PoolOptions().setName(name).setShared(true).setMaxSize(size)
        .setMaxWaitQueueSize(size * 64)
        .setConnectionTimeout(pg.acquireTimeoutMs()).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
    return PgBuilder.pool().with(options)
        .with(new NetClientOptions().setConnectTimeout(pg.connectTimeoutMs()))
        .connectingTo(target.connectOptions())
        .using(vertx).build();
  }
}
