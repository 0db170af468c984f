package io.keypulse.testing;

import io.keypulse.db.PgTarget;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

/** Several nodes in processes of their own, one Hazelcast cluster on loopback, one Postgres. */
public final class Cluster implements AutoCloseable {
  public static final String ADMIN_TOKEN = "cluster-admin-token";
  private final PgTarget pg;
  private final String name = "cluster-" + System.nanoTime();
  private final List<Integer> clusterPorts = new ArrayList<>();
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final Map<String, String> extraEnv;

  public Cluster(PgTarget pg, int size) {
    this(pg, size, Map.of());
  }

  /** With settings of the test's own (KEYPULSE_* variables) on every node. */
  public Cluster(PgTarget pg, int size, Map<String, String> extraEnv) {
    this.pg = pg;
    this.extraEnv = extraEnv;
    IntStream.range(0, size + 1).forEach(i -> clusterPorts.add(TestNode.freePort()));
    List<CompletableFuture<NodeProcess>> starting = IntStream.range(0, size)
        .mapToObj(i -> CompletableFuture.supplyAsync(() -> start(i))).toList();
    starting.forEach(f -> nodes.add(f.join()));
  }

  /** Starts one more member (the port was reserved up front); returns its index. */
  public int join() {
    nodes.add(start(nodes.size()));
    return nodes.size() - 1;
  }

  public Api api(int node) {
    return new Api(nodes.get(node).port());
  }

  public int size() {
    return nodes.size();
  }

  public boolean alive(int node) {
    return nodes.get(node) != null;
  }

  public void kill(int node) {
    nodes.get(node).kill();
    nodes.set(node, null);
  }

  /** Starts a killed node again, on its old cluster port. */
  public void restart(int node) {
    if (alive(node)) {
      throw new IllegalStateException("node " + node + " is running");
    }
    nodes.set(node, start(node));
  }

  /** This node's view of the cluster (GET /admin/cluster). */
  public JsonObject view(int node) {
    return api(node).get("/admin/cluster", "Authorization", "Bearer " + ADMIN_TOKEN).json();
  }

  public JsonObject owner(int node, String partnerId, String keyId) {
    return api(node).get("/admin/cluster/owner?partner_id=" + partnerId + "&key_id=" + keyId,
        "Authorization", "Bearer " + ADMIN_TOKEN).json();
  }

  /** The index of the live node whose member uuid is given. */
  public int nodeOf(String memberUuid) {
    for (int i = 0; i < nodes.size(); i++) {
      if (alive(i) && view(i).getJsonObject("this_node").getString("uuid").equals(memberUuid)) {
        return i;
      }
    }
    throw new AssertionError("no live node is member " + memberUuid);
  }

  private NodeProcess start(int index) {
    StringBuilder members = new StringBuilder();
    clusterPorts.forEach(p -> members.append(members.length() == 0 ? "" : ",").append("127.0.0.1:").append(p));
    Map<String, String> env = new HashMap<>();
    env.put("KEYPULSE_CLUSTER_NAME", name);
    env.put("KEYPULSE_CLUSTER_PORT", Integer.toString(clusterPorts.get(index)));
    env.put("KEYPULSE_CLUSTER_MEMBERS", members.toString());
    env.put("KEYPULSE_DATA_DIR", TestPostgres.tempDir("kp-cluster-node-").toString());
    env.put("KEYPULSE_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("KEYPULSE_SECRETS_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    env.put("KEYPULSE_LIVE_JWT_SECRET", TestNode.JWT_SECRET);
    env.put("KEYPULSE_RATE_LIMIT_PER_MIN", "1000000");
    env.put("KEYPULSE_RATE_LIMIT_REGISTER_PER_MIN", "1000000");
    env.put("KEYPULSE_SCHEDULE_ROTATION_CHECK_SECONDS", "1");
    env.put("KEYPULSE_SCHEDULE_RESCUE_CHECK_SECONDS", "1");
    env.put("KEYPULSE_SCHEDULE_RESCUE_AFTER_SECONDS", "2");
    env.put("KEYPULSE_DETECT_CHECKPOINT_SECONDS", "1");
    env.put("KEYPULSE_HTTP_INSTANCES", "1");
    env.putAll(extraEnv);
    return NodeProcess.start(env, "node", "--pg", pg.url(), "--http-port", "0");
  }

  @Override
  public void close() {
    nodes.stream().filter(n -> n != null).forEach(n -> n.terminate(Duration.ofSeconds(30)));
  }
}
