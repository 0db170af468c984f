package io.keypulse.admin;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import io.keypulse.delivery.DeliveryLog;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.DetectStats;
import io.keypulse.schedule.SchedulerVerticle;
import io.keypulse.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/** What operators see of the cluster: members, who owns which share of the keys, the scheduler, the outbox. */
public final class ClusterView {
  /** A member that has not answered by then is shown as not answering, not waited for. */
  private static final long MEMBER_TIMEOUT_MS = 2000;

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final DetectStats detectStats;
  private final DeliveryLog deliveries;

  public ClusterView(Vertx vertx, HazelcastInstance hazelcast, DetectStats detectStats, DeliveryLog deliveries) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.detectStats = detectStats;
    this.deliveries = deliveries;
  }

  public int size() {
    return hazelcast.getCluster().getMembers().size();
  }

  JsonObject ownerOf(String partnerId, String keyId) {
    var partition = hazelcast.getPartitionService().getPartition(DetectRouter.keyRoute(partnerId, keyId));
    Member owner = partition.getOwner();
    return new JsonObject().put("partition", partition.getPartitionId())
        .put("member", owner == null ? null : owner.getUuid().toString())
        .put("address", owner == null ? null : owner.getAddress().getHost() + ":" + owner.getAddress().getPort())
        .put("this_node", owner != null && owner.localMember());
  }

  /**
   * Members (with the partitions, hence key states, each owns; which one runs the scheduler; and, as
   * each member answers for itself, its HTTP URL, readiness, detector keys and outbox backlog), the
   * outbox per node, and this node's detector figures.
   */
  Future<JsonObject> describe() {
    Map<UUID, Long> owned = hazelcast.getPartitionService().getPartitions().stream()
        .filter(p -> p.getOwner() != null)
        .collect(Collectors.groupingBy(p -> p.getOwner().getUuid(), Collectors.counting()));
    Member leader = hazelcast.getCluster().getMembers().iterator().next();
    JsonArray members = new JsonArray();
    List<Future<?>> answers = new ArrayList<>();
    DeliveryOptions bounded = new DeliveryOptions().setSendTimeout(MEMBER_TIMEOUT_MS);
    for (Member m : hazelcast.getCluster().getMembers()) {
      JsonObject row = new JsonObject().put("uuid", m.getUuid().toString())
          .put("address", m.getAddress().getHost() + ":" + m.getAddress().getPort())
          .put("this_node", m.localMember()).put("partitions_owned", owned.getOrDefault(m.getUuid(), 0L))
          .put("scheduler_leader", m.equals(leader));
      members.add(row);
      answers.add(vertx.eventBus().<JsonObject>request(Addresses.memberStatus(m.getUuid().toString()), "status", bounded)
          .map(reply -> row.put("answered", true).put("http_url", reply.body().getString("http_url"))
              .put("ready", reply.body().getBoolean("ready")).put("detector_keys", reply.body().getLong("detector_keys"))
              .put("outbox_backlog", reply.body().getLong("outbox_backlog")))
          .otherwise(e -> row.put("answered", false).put("ready", false)));
    }
    Member self = hazelcast.getCluster().getLocalMember();
    JsonObject thisNode = new JsonObject().put("uuid", self.getUuid().toString())
        .put("partitions_owned", owned.getOrDefault(self.getUuid(), 0L))
        .put("scheduler_leader", SchedulerVerticle.leads(hazelcast)).put("detector", detectStats.toJson());
    return Future.join(answers).otherwiseEmpty().compose(answered -> deliveries.pendingByNode()).map(outbox -> new JsonObject()
        .put("cluster_name", hazelcast.getConfig().getClusterName()).put("members", members)
        .put("scheduler_leader", leader.getUuid().toString()).put("outbox", outbox).put("this_node", thisNode));
  }
}
