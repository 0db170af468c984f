package io.keypulse.cluster;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.Addresses;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.BridgeClient;
import io.keypulse.testing.Cluster;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.SseClient;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The live feed across node processes: publishing is cluster-wide, tokens hold on every node. */
@DisplayName("Live feed on a cluster")
class LiveClusterTest {

  @Test
  @DisplayName("events ingested through one node reach a bridge client and an SSE stream on the other, each once; "
      + "a token minted on one node opens the other's bridge; alerts arrive once, not once per node")
  void crossNode() {
    PgTarget pg = TestPostgres.freshDatabase();
    try (Cluster cluster = new Cluster(pg, 2, Map.of("KEYPULSE_LIVE_JWT_SECRET", "cluster-wide-live-secret-0123456789"))) {
      Partner p = cluster.api(0).register("Cluster Live");
      String token = cluster.api(0).post("/api/v1/auth/token", new JsonObject(), key(p.apiKey())).json()
          .getString("token");
      String events = Addresses.liveEvents(p.partnerId());
      String alerts = Addresses.liveAlerts(p.partnerId());
      try (BridgeClient bridge = new BridgeClient(cluster.api(1).base());
           SseClient stream = new SseClient(cluster.api(1).base() + "/api/events/stream?token=" + token)) {
        assertThat(stream.status()).isEqualTo(200);
        bridge.register(events, token);
        bridge.register(alerts, token);
        bridge.settle();
        assertThat(bridge.errors()).as("token from node 0 accepted by node 1").isEmpty();

        JsonArray batch = new JsonArray();
        for (int i = 0; i < 20; i++) {
          batch.add(new JsonObject().put("event_type", "key_accessed").put("key_id", "far-" + i));
        }
        assertThat(cluster.api(0).post("/api/v1/events/ingest", new JsonObject().put("data", batch),
            key(p.apiKey())).status()).isEqualTo(202);
        cluster.api(0).post("/api/events", new JsonObject().put("event_type", "key_deleted").put("key_id", "far-0")
            .put("severity", "critical"), key(p.apiKey()));

        assertThat(stream.awaitCount("event", 21, 10_000)).as("SSE on node 1").hasSize(21);
        assertThat(stream.awaitCount("alert", 2, 10_000)).as("alerts on node 1's stream").hasSize(2);
        bridge.await(f -> eventsIn(bridge.bodies(events)).size() >= 21, 10_000);
        bridge.await(f -> bridge.bodies(alerts).size() >= 2, 10_000);
        assertThat(eventsIn(bridge.bodies(events))).as("bridge on node 1, every event").hasSize(21);
        Sleep.millis(500);
        assertThat(stream.frames("event")).as("each event once").hasSize(21);
        assertThat(stream.frames("alert")).as("each alert once").hasSize(2);
        assertThat(bridge.bodies(alerts)).as("each alert once on the bridge").hasSize(2);
      }
    }
  }

  private static Set<Long> eventsIn(List<JsonObject> bodies) {
    Set<Long> ids = new HashSet<>();
    bodies.forEach(b -> b.getJsonArray("events").forEach(e -> ids.add(((JsonObject) e).getLong("id"))));
    return ids;
  }
}
