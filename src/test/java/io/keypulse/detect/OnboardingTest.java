package io.keypulse.detect;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Onboarding an existing fleet")
class OnboardingTest extends NodeTest {

  @Test
  @DisplayName("ten keys created 30–40 days ago, rotated 20 days ago, then a normal first day: no alert at all")
  void normalFirstDay() {
    Partner p = api.register("Onboarding");
    Instant start = Instant.now().minus(25, ChronoUnit.HOURS);
    List<JsonObject> events = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      String keyId = "fleet-key-" + k;
      events.add(event(keyId, "key_created", start.minus(30 + k, ChronoUnit.DAYS)));
      events.add(event(keyId, "key_rotated", start.minus(20, ChronoUnit.DAYS)));
      for (int i = 0; i < 30; i++) {
        events.add(event(keyId, "signing_operation", start.plus(2L * i, ChronoUnit.MINUTES)));
      }
      for (int h = 1; h <= 24; h++) {
        for (int i = 0; i < 5; i++) {
          events.add(event(keyId, "signing_operation", start.plus(h, ChronoUnit.HOURS).plus(11L * i + k, ChronoUnit.MINUTES)));
        }
      }
    }
    events.sort(Comparator.comparing(e -> e.getString("occurred_at")));
    for (int i = 0; i < events.size(); i += 100) {
      JsonArray batch = new JsonArray(new ArrayList<>(events.subList(i, Math.min(events.size(), i + 100))));
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
          .isEqualTo(202);
    }
    awaitDetected(p);
    JsonArray alerts = api.get("/api/alerts?limit=500", key(p.apiKey())).array("alerts");
    assertThat(alerts).as("volume, off-hours or any other alert").isEmpty();
    JsonArray keys = api.get("/api/keys", key(p.apiKey())).array("keys");
    assertThat(keys).hasSize(10).allSatisfy(k -> assertThat(((JsonObject) k).getString("baseline_state"))
        .as("24 h of observed signings").isEqualTo("ready"));
  }

  private static JsonObject event(String keyId, String type, Instant at) {
    return new JsonObject().put("event_type", type).put("key_id", keyId).put("occurred_at", at.toString())
        .put("data", new JsonObject().put("ip", "10.20.0.1").put("actor", "svc-onboard"));
  }

  /** Every key of the partner checkpointed up to its last event. */
  private void awaitDetected(Partner p) {
    long deadline = System.currentTimeMillis() + 30_000;
    while (db.count("SELECT count(*) FROM keys k LEFT JOIN detector_state d ON d.owner = 'k:' || k.partner_id "
        + "|| '/' || k.key_id WHERE k.partner_id = ? AND k.last_event_id > coalesce(d.last_event_id, 0)",
        p.partnerId()) > 0) {
      assertThat(System.currentTimeMillis()).as("detected in time").isLessThan(deadline);
      Sleep.millis(200);
    }
  }
}
