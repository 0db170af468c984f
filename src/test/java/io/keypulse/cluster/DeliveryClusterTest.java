package io.keypulse.cluster;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Cluster;
import io.keypulse.testing.Db;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Webhook delivery with two node processes on one Postgres: claims, kills, restarts. */
@DisplayName("Webhook delivery on a cluster")
class DeliveryClusterTest {
  private static final Map<String, String> SETTINGS = Map.of(
      "KEYPULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8",
      "KEYPULSE_WEBHOOK_RETRY_DELAYS_MS", "300,600,1200",
      "KEYPULSE_WEBHOOK_POLL_MS", "200",
      "KEYPULSE_WEBHOOK_LEASE_SECONDS", "4",
      "KEYPULSE_WEBHOOK_TIMEOUT_MS", "10000",
      "KEYPULSE_WEBHOOK_PER_ENDPOINT_CONCURRENCY", "8");

  @Test
  @DisplayName("both nodes send, none sends a delivery twice; a rule deleted on one node stops firing on the other; "
      + "pending and in-flight deliveries survive kill -9 of every node")
  void claimsAndRestarts() {
    PgTarget pg = TestPostgres.freshDatabase();
    Db db = new Db(pg);
    try (Cluster cluster = new Cluster(pg, 2, SETTINGS); Receiver receiver = new Receiver().answerDelay(20)) {
      Partner p = cluster.api(0).register("Cluster Hooks");
      long ruleId = createRule(cluster, 1, p, receiver.url("/all"));

      for (int round = 0; round < 20; round++) {
        JsonArray batch = new JsonArray();
        for (int i = 0; i < 10; i++) {
          batch.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "k-" + round + "-" + i));
        }
        assertThat(cluster.api(round % 2).post("/api/v1/events/ingest", new JsonObject().put("data", batch),
            key(p.apiKey())).status()).isEqualTo(202);
      }
      List<Receiver.Hit> hits = receiver.await("/all", h -> true, 200, 60_000);
      Sleep.millis(1000);
      hits = receiver.hits("/all");
      Set<String> deliveryIds = hits.stream().map(h -> h.header("X-KeyPulse-Delivery")).collect(Collectors.toSet());
      assertThat(deliveryIds).as("every event delivered").hasSize(200);
      assertThat(hits).as("none sent twice").hasSize(200);
      assertThat(db.count("SELECT count(*) FROM delivery_attempts")).isEqualTo(200);
      assertThat(db.count("SELECT count(DISTINCT node) FROM delivery_attempts")).as("both nodes sent some").isEqualTo(2);

      // Deleted through node 1, the rule no longer fires for events ingested through node 0.
      assertThat(cluster.api(1).delete("/api/v1/rules/" + ruleId, key(p.apiKey())).status()).isEqualTo(200);
      assertThat(cluster.api(0).post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_rotated")
          .put("key_id", "after-delete"), key(p.apiKey())).status()).isEqualTo(202);
      long marker = createRule(cluster, 0, p, receiver.url("/marker"));
      cluster.api(1).post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_rotated")
          .put("key_id", "marker"), key(p.apiKey()));
      assertThat(receiver.await("/marker", h -> true, 1, 10_000)).hasSize(1);
      assertThat(receiver.hits("/all")).as("deleted rule silent").hasSize(200);
      cluster.api(0).delete("/api/v1/rules/" + marker, key(p.apiKey()));

      // A receiver that holds every request: deliveries are in flight or pending when both nodes die.
      try (Receiver stuck = new Receiver().always("/stuck", Receiver.HANG)) {
        createRule(cluster, 0, p, stuck.url("/stuck"));
        for (int i = 0; i < 20; i++) {
          cluster.api(i % 2).post("/api/v1/events/ingest", new JsonObject().put("event_type", "export")
              .put("key_id", "stuck-" + i), key(p.apiKey()));
        }
        awaitUntil(() -> stuck.hits("/stuck").size() >= 8);
        long inFlight = db.count("SELECT count(*) FROM deliveries WHERE url LIKE '%/stuck' AND claimed_by IS NOT NULL");
        assertThat(inFlight).as("deliveries in flight at the kill").isPositive();
        cluster.kill(0);
        cluster.kill(1);
        stuck.always("/stuck", 200);
        cluster.restart(0);
        awaitUntil(() -> db.count("SELECT count(*) FROM deliveries WHERE url LIKE '%/stuck' AND status = 'delivered'")
            == 20);
        Set<String> sent = stuck.hits("/stuck").stream().map(h -> h.header("X-KeyPulse-Delivery"))
            .collect(Collectors.toSet());
        assertThat(sent).hasSize(20);
        assertThat(db.count("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")).isZero();
      }
    }
  }

  private static long createRule(Cluster cluster, int node, Partner p, String url) {
    Reply r = cluster.api(node).post("/api/v1/rules", new JsonObject().put("name", "all").put("event_type_match", "*")
        .put("webhook_url", url).put("severity", "warning"), key(p.apiKey()));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getJsonObject("rule").getLong("id");
  }

  private static void awaitUntil(BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + 60_000;
    while (!condition.getAsBoolean()) {
      assertThat(System.currentTimeMillis()).as("condition met within 60 s").isLessThan(deadline);
      Sleep.millis(100);
    }
  }
}
