package io.keypulse.detect;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Alerts;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Partner-level detectors count their repeats like key-level ones")
class PartnerRepeatsTest extends NodeTest {

  @Test
  @DisplayName("after a provisioning_spike alert, five more creations (other keys) count as five repeats on it")
  void provisioningSpikeRepeats() {
    Partner p = api.register("Fleet Onboarding");
    // No learning period: ten creations in an hour against an empty history are a spike at once.
    assertThat(api.put("/api/v1/policies", new JsonObject().put("learning_hours", 0), key(p.apiKey())).status())
        .isEqualTo(200);
    create(p, 0, 10);
    JsonObject alert = Alerts.await(api, p, "rule=provisioning_spike");
    assertThat(alert.getInteger("repeat_count")).isZero();

    create(p, 10, 5);
    JsonObject counted = Sleep.poll(() -> {
      JsonObject latest = Alerts.await(api, p, "rule=provisioning_spike");
      return latest.getInteger("repeat_count") == 5 ? latest : null;
    }, 15_000);
    assertThat(counted).as("repeat_count reaches 5: %s", Alerts.await(api, p, "rule=provisioning_spike")).isNotNull();
    assertThat(counted.getLong("id")).isEqualTo(alert.getLong("id"));
    assertThat(api.get("/api/alerts?rule=provisioning_spike", key(p.apiKey())).json().getInteger("count"))
        .as("repeats are counted, not raised").isEqualTo(1);
  }

  private void create(Partner p, int from, int n) {
    JsonArray batch = new JsonArray();
    for (int i = from; i < from + n; i++) {
      batch.add(new JsonObject().put("event_type", "key_created").put("key_id", "fleet-" + i));
    }
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
        .isEqualTo(202);
  }
}
