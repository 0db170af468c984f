package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.db.EmbeddedPostgres;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Api;
import io.keypulse.testing.Db;
import io.keypulse.testing.Load.Outcome;
import io.keypulse.testing.Load;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Postgres outage")
class PostgresOutageTest {

  @Test
  @DisplayName("while Postgres is down ingest answers 503 with Retry-After, never a 2xx, and recovers by itself")
  void outageUnderLoad() throws Exception {
    EmbeddedPostgres pg = TestPostgres.dedicatedServer();
    try (KeyPulseNode node = TestNode.start(pg.target())) {
      Api api = new Api(node.port());
      String key = api.register("Outage").apiKey();
      Load load = new Load(node.port(), "/api/events", key, n -> new JsonObject().put("key_id", "k-" + (n % 5))
          .put("event_type", "signing_request").put("severity", "nominal").put("details", new JsonObject().put("seq", n)));
      CompletableFuture<Void> running = load.run(16, Long.MAX_VALUE);
      Thread.sleep(1000);

      pg.stop();
      Thread.sleep(1500);
      Reply query = api.get("/api/events", Api.key(key));
      Reply ready = api.get("/ready");
      Thread.sleep(1500);
      pg.startServer();
      long recoveredAfter = awaitIngest(api, key);
      Thread.sleep(1000);
      load.stop();
      running.join();

      assertThat(query.status()).isEqualTo(503);
      assertThat(query.header("Retry-After")).isNotNull();
      assertThat(ready.status()).isEqualTo(503);
      List<Outcome> outcomes = load.outcomes();
      assertThat(outcomes.stream().map(Outcome::status).collect(Collectors.toSet())).containsOnly(201, 503);
      assertThat(outcomes).filteredOn(o -> o.status() == 503).isNotEmpty().allMatch(o -> o.retryAfter() != null);
      assertThat(recoveredAfter).as("ms until ingest succeeded again").isLessThan(10_000);
      List<Outcome> tail = outcomes.stream().sorted((a, b) -> Long.compare(b.seq(), a.seq())).limit(50).toList();
      assertThat(tail).as("the last requests succeed again").allMatch(o -> o.status() == 201);

      List<String> stored = new Db(pg.target()).column("SELECT details->>'seq' FROM events WHERE details->>'seq' IS NOT NULL");
      assertThat(stored).doesNotHaveDuplicates()
          .containsAll(outcomes.stream().filter(o -> o.status() == 201).map(o -> Long.toString(o.seq())).toList());
    } finally {
      pg.stop();
    }
  }

  private static long awaitIngest(Api api, String key) throws InterruptedException {
    long start = System.currentTimeMillis();
    while (System.currentTimeMillis() - start < 30_000) {
      Reply r = api.post("/api/events", new JsonObject().put("key_id", "probe").put("event_type", "x")
          .put("severity", "nominal"), Api.key(key));
      if (r.status() == 201) {
        return System.currentTimeMillis() - start;
      }
      assertThat(r.status()).as(r.raw()).isEqualTo(503);
      Thread.sleep(100);
    }
    return Long.MAX_VALUE;
  }
}
