package io.keypulse.admin;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.bus.Addresses;
import io.keypulse.detect.DetectStats;
import io.keypulse.ops.Readiness;
import io.keypulse.schedule.SchedulerVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

/**
 * Answers, for this member, what an operator's cluster table shows per member (GET /admin/cluster
 * asks every member at once): where its API listens, whether it is ready, the partitions and
 * detector keys it holds, the webhooks it has claimed and not yet sent, whether it leads the scheduler.
 */
public final class MemberStatusVerticle extends VerticleBase {
  private static final String BACKLOG =
      "SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND claimed_by = $1";

  private final HazelcastInstance hazelcast;
  private final String member;
  private final String httpUrl;
  private final Readiness readiness;
  private final DetectStats detectStats;
  private final Pool pool;

  public MemberStatusVerticle(HazelcastInstance hazelcast, String httpUrl, Readiness readiness, DetectStats detectStats,
                              Pool pool) {
    this.hazelcast = hazelcast;
    this.member = hazelcast.getCluster().getLocalMember().getUuid().toString();
    this.httpUrl = httpUrl;
    this.readiness = readiness;
    this.detectStats = detectStats;
    this.pool = pool;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Object>consumer(Addresses.memberStatus(member),
        msg -> status().onComplete(done -> msg.reply(done.result()))).completion();
  }

  /** The outbox count doubles as the database check: a member that cannot query it is not ready. */
  private Future<JsonObject> status() {
    long partitions = hazelcast.getPartitionService().getPartitions().stream()
        .filter(p -> p.getOwner() != null && p.getOwner().localMember()).count();
    JsonObject status = new JsonObject().put("uuid", member).put("http_url", httpUrl)
        .put("partitions_owned", partitions)
        .put("detector_keys", detectStats.toJson().getLong("keys_held"))
        .put("scheduler_leader", SchedulerVerticle.leads(hazelcast));
    return pool.preparedQuery(BACKLOG).execute(Tuple.of(member))
        .map(rows -> status.put("outbox_backlog", rows.iterator().next().getLong("n")).put("ready", readiness.up()))
        .otherwise(e -> status.putNull("outbox_backlog").put("ready", false)
            .put("problem", "database: " + e.getMessage()));
  }
}
