package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.testing.Api;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeProcess;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The embedded Postgres and its node: each outlives the other's death only as long as it must. */
@DisplayName("Embedded Postgres self-healing")
class StoreSelfHealingTest {

  @Test
  @DisplayName("a killed embedded Postgres is restarted by the node: /health shows it, /ready turns 200 again")
  void restartsKilledServer() throws Exception {
    Path dataDir = TestPostgres.tempDir("kp-heal-");
    Map<String, Object> settings = TestNode.defaults(null, "heal-" + UUID.randomUUID());
    settings.put("data_dir", dataDir.toString());
    try (KeyPulseNode node = TestNode.start(settings)) {
      Api api = new Api(node.port());
      String key = api.register("Heal").apiKey();
      assertThat(api.get("/health").json().getJsonObject("store")).isEqualTo(new JsonObject()
          .put("embedded", true).put("state", "running").put("restarts", 0).put("last_error", null));

      ProcessHandle.of(postmasterPid(dataDir)).orElseThrow().destroyForcibly();
      long killedAt = System.currentTimeMillis();
      List<String> states = new ArrayList<>();
      List<Integer> readiness = new ArrayList<>();
      JsonObject store;
      int ready;
      do {
        Thread.sleep(100);
        Reply health = api.get("/health");
        assertThat(health.status()).as("/health is liveness: 200 throughout").isEqualTo(200);
        store = health.json().getJsonObject("store");
        changed(states, store.getString("state"));
        ready = api.get("/ready").status();
        changed(readiness, ready);
      } while ((store.getInteger("restarts") == 0 || ready != 200) && System.currentTimeMillis() - killedAt < 30_000);
      long healedAfter = System.currentTimeMillis() - killedAt;

      assertThat(healedAfter).as("ms until ready again").isLessThan(20_000);
      assertThat(states).as("/health's store states").contains("restarting").endsWith("running");
      assertThat(readiness).as("/ready's statuses").contains(503).endsWith(200);
      assertThat(store.getInteger("restarts")).isEqualTo(1);
      assertThat(store.getString("last_error")).isNotBlank();
      assertThat(api.post("/api/events", new JsonObject().put("key_id", "k-healed").put("event_type", "signing_request")
          .put("severity", "nominal"), Api.key(key)).status()).isEqualTo(201);
      assertThat(api.get("/api/events?key_id=k-healed", Api.key(key)).json().getInteger("count")).isEqualTo(1);
    }
  }

  @Test
  @DisplayName("kill -9 of an --ephemeral node stops its Postgres and deletes its data directory")
  void killedNodeLeavesNoOrphan() throws Exception {
    NodeProcess node = NodeProcess.start(Map.of("KEYPULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()),
        "KEYPULSE_CLUSTER_NAME", "orphan-" + System.nanoTime()), "run", "--port",
        Integer.toString(TestNode.freePort()), "--ephemeral");
    Path dataDir = Path.of(node.output().replaceAll("(?s).*data in (/\\S+)/postgres.*", "$1"));
    ProcessHandle server = ProcessHandle.of(postmasterPid(dataDir)).orElseThrow();
    ProcessHandle guard = node.postgresGuard();

    node.kill();
    long deadline = System.currentTimeMillis() + 15_000;
    while ((server.isAlive() || Files.exists(dataDir) || guard.isAlive()) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertThat(server.isAlive()).as("the postmaster of the killed node").isFalse();
    assertThat(dataDir).as("the throwaway data directory").doesNotExist();
    assertThat(guard.isAlive()).as("the guard, its work done").isFalse();
  }

  /** Records a value when it differs from the last one: the sequence of states, not of polls. */
  private static <T> void changed(List<T> seen, T value) {
    if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(value)) {
      seen.add(value);
    }
  }

  private static long postmasterPid(Path dataDir) throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
  }
}
