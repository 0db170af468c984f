package io.keypulse.admin;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** What operators see of the cluster: its members, which one is this node. */
public final class ClusterView {
  private final HazelcastInstance hazelcast;

  public ClusterView(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
  }

  public int size() {
    return hazelcast.getCluster().getMembers().size();
  }

  JsonObject describe() {
    JsonArray members = new JsonArray();
    for (Member m : hazelcast.getCluster().getMembers()) {
      members.add(new JsonObject().put("uuid", m.getUuid().toString())
          .put("address", m.getAddress().getHost() + ":" + m.getAddress().getPort())
          .put("this_node", m.localMember()));
    }
    return new JsonObject().put("cluster_name", hazelcast.getConfig().getClusterName()).put("members", members);
  }
}
