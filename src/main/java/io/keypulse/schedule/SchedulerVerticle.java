package io.keypulse.schedule;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.bus.KeyCommand;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.delivery.DeliveryLog;
import io.keypulse.detect.DetectRouter;
import io.keypulse.idempotency.IdempotencyKeys;
import io.keypulse.ops.Staggered;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Time-driven work, done by one node of the cluster at a time: the oldest Hazelcast member (when
 * it leaves, the next oldest takes over at its next tick). Every node runs this verticle; only the
 * leader acts.
 * <ul>
 *   <li>rotation: keys past their rotation policy and not told so in a day are sent to their shard,
 *   which raises rotation_overdue (the shard owns the key's state, so there is one writer);</li>
 *   <li>rescue: keys with events committed schedule.rescue_after_seconds ago that no checkpoint
 *   covers yet (their ingest node died before handing them over, or their shard's node died) are
 *   told to catch up, which their (possibly new) shard does from the event log.</li>
 *   <li>retention: webhook deliveries finished schedule.delivery_retention_days ago are deleted,
 *   a chunk at a time.</li>
 * </ul>
 */
public final class SchedulerVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(SchedulerVerticle.class);
  private static final int PAGE = 1000;
  private static final int PRUNE_CHUNK = 10_000;
  /** Weekly partitions kept ready ahead of this week. */
  private static final int WEEKS_AHEAD = 2;
  private static final int MAX_CHUNKS = 50;
  private static final String DUE_FOR_ROTATION = """
      SELECT k.id, k.partner_id, k.key_id FROM keys k LEFT JOIN policies p ON p.partner_id = k.partner_id
      WHERE k.id > $1
        AND (k.deleted_event_at IS NULL OR k.deleted_event_at < coalesce(k.created_event_at, k.first_event_at))
        AND coalesce(k.last_rotated, k.created_event_at, k.first_event_at)
            < now() - make_interval(days => coalesce(k.rotation_policy_days, (p.policy->>'rotation_policy_days')::int, $2))
        AND (k.rotation_alerted_at IS NULL OR k.rotation_alerted_at < now() - interval '1 day')
      ORDER BY k.id LIMIT $3
      """;
  private static final String BEHIND = """
      SELECT k.id, k.partner_id, k.key_id FROM keys k
      LEFT JOIN detector_state d ON d.owner = 'k:' || k.partner_id || '/' || k.key_id
      WHERE k.id > $1 AND k.last_event_id > coalesce(d.last_event_id, 0)
        AND k.last_commit_at < now() - make_interval(secs => $2)
      ORDER BY k.id LIMIT $3
      """;

  private final Config config;
  private final PgTarget pg;
  private final HazelcastInstance hazelcast;
  private final DetectRouter router;
  private Pool pool;
  private boolean rotating;
  private boolean rescuing;
  private boolean pruning;

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
    Staggered.every(vertx, config.schedule().rotationCheckSeconds() * 1000L, id -> {
      if (!rotating && leads(hazelcast)) {
        rotating = true;
        rotationSweep(0).onComplete(done -> rotating = false).onFailure(e -> log.warn("rotation sweep: {}", e.toString()));
      }
    });
    Staggered.every(vertx, config.schedule().rescueCheckSeconds() * 1000L, id -> {
      if (!rescuing && leads(hazelcast)) {
        rescuing = true;
        rescueSweep(0).onComplete(done -> rescuing = false).onFailure(e -> log.warn("rescue sweep: {}", e.toString()));
      }
    });
    Staggered.every(vertx, config.schedule().retentionCheckSeconds() * 1000L, id -> {
      if (!pruning && leads(hazelcast)) {
        pruning = true;
        prune(0).compose(done -> expireKeys(0)).compose(done -> retention()).onComplete(done -> pruning = false)
            .onFailure(e -> log.warn("retention sweep: {}", e.toString()));
      }
    });
    return Future.succeededFuture();
  }

  private Future<Void> prune(long deletedSoFar) {
    return new DeliveryLog(pool).prune(config.schedule().deliveryRetentionDays(), PRUNE_CHUNK).compose(n -> {
      if (n == PRUNE_CHUNK) {
        return prune(deletedSoFar + n);
      }
      if (deletedSoFar + n > 0) {
        log.info("deleted {} webhook deliveries finished over {} days ago", deletedSoFar + n,
            config.schedule().deliveryRetentionDays());
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Weekly partitions made ahead and dropped past the longest retention; partners with a shorter
   * one cut in chunks (at most MAX_CHUNKS each per run); emptied legacy partitions dropped.
   */
  private Future<Void> retention() {
    Retention retention = new Retention(pool, config.detect().retentionDays(), WEEKS_AHEAD, PRUNE_CHUNK);
    Instant now = Instant.now();
    return retention.ensureAhead()
        .compose(made -> retention.dropExpiredWeeks(now))
        .compose(dropped -> retention.cutPartners(now, MAX_CHUNKS)
            .compose(deleted -> retention.dropEmptyLegacy().map(legacy -> {
              Retention.logRun(dropped, deleted, legacy);
              return null;
            })));
  }

  /** Idempotency-Keys past their 24 hours (lookups ignore them already; this frees the rows). */
  private Future<Void> expireKeys(long deletedSoFar) {
    return new IdempotencyKeys(pool).purge(PRUNE_CHUNK).compose(n -> {
      if (n == PRUNE_CHUNK) {
        return expireKeys(deletedSoFar + n);
      }
      if (deletedSoFar + n > 0) {
        log.info("deleted {} expired idempotency keys", deletedSoFar + n);
      }
      return Future.succeededFuture();
    });
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

  private Future<Void> rescueSweep(long afterId) {
    return pool.preparedQuery(BEHIND).execute(Tuple.of(afterId, config.schedule().rescueAfterSeconds(), PAGE))
        .compose(rows -> {
          long last = afterId;
          for (Row row : rows) {
            router.command(new KeyCommand(row.getString("partner_id"), row.getString("key_id"),
                KeyCommand.Type.CATCH_UP));
            last = row.getLong("id");
          }
          if (rows.size() > 0) {
            log.info("{} keys have events no checkpoint covers after {} s; asked their shards to catch up",
                rows.size(), config.schedule().rescueAfterSeconds());
          }
          return rows.size() < PAGE ? Future.succeededFuture() : rescueSweep(last);
        });
  }
}
