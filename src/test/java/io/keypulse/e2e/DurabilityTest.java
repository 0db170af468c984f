package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api;
import io.keypulse.testing.Db;
import io.keypulse.testing.Load.Outcome;
import io.keypulse.testing.Load;
import io.keypulse.testing.NodeProcess;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Durability")
class DurabilityTest {

  @Test
  @DisplayName("a node killed with SIGKILL mid-load loses no acknowledged event and duplicates none")
  void killNineUnderLoad() throws Exception {
    PgTarget pg = TestPostgres.freshDatabase();
    Map<String, String> env = Map.of(
        "KEYPULSE_RATE_LIMIT_PER_MIN", "10000000",
        "KEYPULSE_DATA_DIR", TestPostgres.tempDir("kp-durability-").toString(),
        "KEYPULSE_CLUSTER_NAME", "durability-" + ProcessHandle.current().pid(),
        "KEYPULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()));
    NodeProcess node = NodeProcess.start(env, "node", "--pg", pg.url(), "--http-port", "0");
    String key = new Api(node.port()).register("Durability").apiKey();

    Load load = new Load(node.port(), "/api/v1/events/ingest", key, n -> new JsonObject()
        .put("event_type", "signing_operation").put("key_id", "durable-" + (n % 11)).put("data", new JsonObject().put("seq", n)));
    CompletableFuture<Void> running = load.run(64, Long.MAX_VALUE);
    waitForAcks(load, 300);
    node.kill();
    load.stop();
    running.join();

    List<Outcome> outcomes = load.outcomes();
    List<Long> acked = outcomes.stream().filter(o -> o.status() == 202).map(Outcome::seq).toList();
    assertThat(outcomes.stream().filter(o -> o.status() != 202)).as("requests cut off by the kill").isNotEmpty();

    NodeProcess restarted = NodeProcess.start(env, "node", "--pg", pg.url(), "--http-port", "0");
    try {
      Db db = new Db(pg);
      List<String> stored = db.column("SELECT data_seq FROM (SELECT details->>'seq' AS data_seq FROM events) t");
      assertThat(stored).as("no event stored twice").doesNotHaveDuplicates();
      assertThat(stored).as("every acknowledged event stored")
          .containsAll(acked.stream().map(String::valueOf).toList());
      Api api = new Api(restarted.port());
      assertThat(api.get("/api/stats", Api.key(key)).json().getLong("total_events")).isEqualTo(stored.size());
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_rotated")
          .put("key_id", "after-restart"), Api.key(key)).status()).isEqualTo(202);
    } finally {
      restarted.terminate(java.time.Duration.ofSeconds(30));
    }
  }

  private static void waitForAcks(Load load, int atLeast) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    while (load.outcomes().stream().filter(o -> o.status() == 202).count() < atLeast) {
      assertThat(System.currentTimeMillis()).as("load made progress").isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
