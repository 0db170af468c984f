package io.keypulse.ops;

import com.hazelcast.core.HazelcastInstance;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.sqlclient.Pool;

/**
 * /health is liveness: 200 while the process answers, with the store's state for the operator's eye
 * (a down store is /ready's business: restarting the node would not help, its watchdog is on it).
 * /ready: it can do its job. /metrics: Prometheus.
 */
public final class OpsRoutes {
  private static final long CHECK_TIMEOUT_MS = 2000;

  private OpsRoutes() {}

  public static void mount(Router router, Vertx vertx, Pool pool, HazelcastInstance hazelcast, Readiness readiness,
                           PrometheusMeterRegistry registry) {
    router.get("/health").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")
        .put("store", readiness.store())));
    router.get("/ready").handler(HealthCheckHandler.create(vertx)
        .register("database", CHECK_TIMEOUT_MS, p -> pool.query("SELECT 1").execute()
            .onSuccess(r -> p.complete(Status.OK()))
            .onFailure(e -> p.complete(Status.KO(new JsonObject().put("error", String.valueOf(e.getMessage()))))))
        .register("migrations", p -> flag(p, readiness.isMigrated()))
        .register("cluster", p -> flag(p, hazelcast.getLifecycleService().isRunning()
            && hazelcast.getPartitionService().isLocalMemberSafe()))
        .register("serving", p -> flag(p, readiness.isServing())));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
  }

  private static void flag(Promise<Status> promise, boolean ok) {
    promise.complete(ok ? Status.OK() : Status.KO());
  }
}
