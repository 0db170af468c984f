package io.keypulse.admin;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.DetectStats;
import io.keypulse.schedule.SchedulerVerticle;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** What operators see of the cluster: its members, and this node's partitions, shards and scheduler role. */
public final class ClusterView {
  private final HazelcastInstance hazelcast;
  private final DetectStats detectStats;

  public ClusterView(HazelcastInstance hazelcast, DetectStats detectStats) {
    this.hazelcast = hazelcast;
    this.detectStats = detectStats;
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

  JsonObject describe() {
    JsonArray members = new JsonArray();
    for (Member m : hazelcast.getCluster().getMembers()) {
      members.add(new JsonObject().put("uuid", m.getUuid().toString())
          .put("address", m.getAddress().getHost() + ":" + m.getAddress().getPort())
          .put("this_node", m.localMember()));
    }
    Member self = hazelcast.getCluster().getLocalMember();
    long owned = hazelcast.getPartitionService().getPartitions().stream()
        .filter(p -> p.getOwner() != null && p.getOwner().localMember()).count();
    return new JsonObject().put("cluster_name", hazelcast.getConfig().getClusterName()).put("members", members)
        .put("this_node", new JsonObject().put("uuid", self.getUuid().toString()).put("partitions_owned", owned)
            .put("scheduler_leader", SchedulerVerticle.leads(hazelcast)).put("detector", detectStats.toJson()));
  }
}
