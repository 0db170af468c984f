package io.keypulse.schedule;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.bus.EventFacts;
import io.keypulse.bus.KeyCommand;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.FactsSql;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Time-driven work, done by one node of the cluster at a time: the oldest Hazelcast member (when
 * it leaves, the next oldest takes over at its next tick). Every node runs this verticle; only the
 * leader acts.
 * <ul>
 *   <li>rotation: keys past their rotation policy and not told so in a day are sent to their shard,
 *   which raises rotation_overdue (the shard owns the key's state, so there is one writer);</li>
 *   <li>rescue: events committed but still unscored after schedule.rescue_after_seconds (their
 *   ingest node died before handing them over) are sent to their shards again.</li>
 * </ul>
 */
public final class SchedulerVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(SchedulerVerticle.class);
  private static final int PAGE = 1000;
  private static final String DUE_FOR_ROTATION = """
      SELECT k.id, k.partner_id, k.key_id FROM keys k LEFT JOIN policies p ON p.partner_id = k.partner_id
      WHERE k.id > $1
        AND (k.deleted_event_at IS NULL OR k.deleted_event_at < coalesce(k.created_event_at, k.first_event_at))
        AND coalesce(k.last_rotated, k.created_event_at, k.first_event_at)
            < now() - make_interval(days => coalesce(k.rotation_policy_days, (p.policy->>'rotation_policy_days')::int, $2))
        AND (k.rotation_alerted_at IS NULL OR k.rotation_alerted_at < now() - interval '1 day')
      ORDER BY k.id LIMIT $3
      """;
  private static final String WATERMARK = "SELECT event_id FROM detection_watermark";
  private static final String UNSCORED = "SELECT " + FactsSql.COLUMNS + " FROM events WHERE id > $1 AND score IS NULL "
      + "AND created_at < now() - make_interval(secs => $2) ORDER BY id LIMIT " + PAGE;
  private static final String SETTLED_UP_TO = "SELECT coalesce(max(id), $1) AS id FROM events WHERE id > $1 "
      + "AND created_at < now() - make_interval(secs => $2)";
  private static final String ADVANCE = "UPDATE detection_watermark SET event_id = greatest(event_id, $1)";

  private final Config config;
  private final PgTarget pg;
  private final HazelcastInstance hazelcast;
  private final DetectRouter router;
  private Pool pool;
  private boolean rotating;
  private boolean rescuing;

  public SchedulerVerticle(Config config, PgTarget pg, HazelcastInstance hazelcast, DetectRouter router) {
    this.config = config;
    this.pg = pg;
    this.hazelcast = hazelcast;
    this.router = router;
  }

  /** The oldest member of the cluster leads. */
  public static boolean leads(HazelcastInstance hazelcast) {
    return hazelcast.getLifecycleService().isRunning()
        && hazelcast.getCluster().getMembers().iterator().next().localMember();
  }

  @Override
  public Future<?> start() {
    pool = Pools.query(vertx, config.pg(), pg);
    vertx.setPeriodic(config.schedule().rotationCheckSeconds() * 1000L, id -> {
      if (!rotating && leads(hazelcast)) {
        rotating = true;
        rotationSweep(0).onComplete(done -> rotating = false).onFailure(e -> log.warn("rotation sweep: {}", e.toString()));
      }
    });
    vertx.setPeriodic(config.schedule().rescueCheckSeconds() * 1000L, id -> {
      if (!rescuing && leads(hazelcast)) {
        rescuing = true;
        rescueSweep().onComplete(done -> rescuing = false).onFailure(e -> log.warn("rescue sweep: {}", e.toString()));
      }
    });
    return Future.succeededFuture();
  }

  private Future<Void> rotationSweep(long afterId) {
    return pool.preparedQuery(DUE_FOR_ROTATION)
        .execute(Tuple.of(afterId, config.detect().rotationPolicyDays(), PAGE)).compose(rows -> {
          long last = afterId;
          for (Row row : rows) {
            router.command(new KeyCommand(row.getString("partner_id"), row.getString("key_id"),
                KeyCommand.Type.CHECK_ROTATION));
            last = row.getLong("id");
          }
          return rows.size() < PAGE ? Future.succeededFuture() : rotationSweep(last);
        });
  }

  private Future<Void> rescueSweep() {
    int after = config.schedule().rescueAfterSeconds();
    return pool.query(WATERMARK).execute().map(rows -> rows.iterator().next().getLong("event_id"))
        .compose(mark -> pool.preparedQuery(UNSCORED).execute(Tuple.of(mark, after)).compose(rows -> {
          List<EventFacts> lost = new ArrayList<>();
          rows.forEach(row -> lost.add(FactsSql.read(row)));
          if (lost.isEmpty()) {
            return pool.preparedQuery(SETTLED_UP_TO).execute(Tuple.of(mark, after))
                .compose(r -> pool.preparedQuery(ADVANCE).execute(Tuple.of(r.iterator().next().getLong("id"))))
                .mapEmpty();
          }
          log.warn("{} events still unscored {} s after commit; detecting them again", lost.size(), after);
          return router.rescue(lost).otherwiseEmpty()
              .compose(v -> pool.preparedQuery(ADVANCE).execute(Tuple.of(lost.get(0).id() - 1))).mapEmpty();
        }));
  }
}
