package io.keypulse.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api;
import io.keypulse.testing.Db;
import io.keypulse.testing.Load.Outcome;
import io.keypulse.testing.Load;
import io.keypulse.testing.Metrics;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Group commit")
class GroupCommitTest {

  @Test
  @DisplayName("concurrent single-event requests share flushes; every 2xx is stored once, ids in commit order")
  void batchesConcurrentRequests() {
    PgTarget pg = TestPostgres.freshDatabase();
    try (KeyPulseNode node = TestNode.start(pg)) {
      Api api = new Api(node.port());
      String key = api.register("Group Commit").apiKey();
      int requests = 400;
      Load load = new Load(node.port(), "/api/events", key, n -> event(n));
      load.run(64, requests).join();

      List<Outcome> outcomes = load.outcomes();
      assertThat(outcomes).hasSize(requests).allMatch(o -> o.status() == 201);
      Db db = new Db(pg);
      assertThat(db.count("SELECT count(DISTINCT details->>'seq') FROM events")).isEqualTo(requests);
      assertThat(db.count("SELECT count(*) FROM events")).isEqualTo(requests);
      // Commit order: a later id never has an earlier commit time.
      assertThat(db.count("SELECT count(*) FROM (SELECT created_at < lag(created_at) OVER (ORDER BY id) AS back "
          + "FROM events) t WHERE back")).isZero();
      long flushes = metric(api.get("/metrics").raw(), "keypulse_store_flush_events_count");
      assertThat(flushes).isLessThan(requests / 2);
    }
  }

  @Test
  @DisplayName("when more events wait than the store accepts, the excess is refused with 503 and not stored")
  void boundedQueue() {
    PgTarget pg = TestPostgres.freshDatabase();
    Map<String, Object> settings = TestNode.defaults(pg, "gc-" + UUID.randomUUID());
    settings.put("store.max_pending_events", 5);
    settings.put("store.flush_interval_ms", 300);
    try (KeyPulseNode node = TestNode.start(settings)) {
      String key = new Api(node.port()).register("Saturated").apiKey();
      Load load = new Load(node.port(), "/api/events", key, n -> event(n));
      load.run(40, 40).join();

      List<Outcome> outcomes = load.outcomes();
      List<Outcome> refused = outcomes.stream().filter(o -> o.status() == 503).toList();
      List<Outcome> stored = outcomes.stream().filter(o -> o.status() == 201).toList();
      assertThat(refused).isNotEmpty().allMatch(o -> "2".equals(o.retryAfter()));
      assertThat(stored.size() + refused.size()).isEqualTo(40);
      Db db = new Db(pg);
      assertThat(db.<String>column("SELECT details->>'seq' FROM events"))
          .containsExactlyInAnyOrderElementsOf(stored.stream().map(o -> Long.toString(o.seq())).toList());
    }
  }

  static JsonObject event(long n) {
    return new JsonObject().put("key_id", "gc-" + (n % 7)).put("event_type", "signing_request")
        .put("severity", "nominal").put("details", new JsonObject().put("seq", n));
  }

  private static long metric(String prometheus, String name) {
    assertThat(Metrics.has(prometheus, name)).as(name + " in /metrics").isTrue();
    return (long) Metrics.sum(prometheus, name);
  }
}
