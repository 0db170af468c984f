package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("One incident per (key, rule): an escalation")
class EscalationWebhookTest extends WebhookNodeTest {

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of();
  }

  @Test
  @DisplayName("a spike passing 10× raises its open warning in place: one alert, its webhook sent again with escalated_from")
  void escalation() {
    Partner p = api.register("Escalation");
    assertThat(api.put("/api/v1/partners/webhook", new JsonObject().put("url", receiver.url("/alerts")),
        key(p.apiKey())).status()).isEqualTo(200);
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    JsonArray batch = new JsonArray();
    for (int h = 192; h >= 2; h--) {
      for (int i = 0; i < 6; i++) {
        batch.add(sign(hour.minus(h, ChronoUnit.HOURS).plus(10L * i, ChronoUnit.MINUTES)));
        if (batch.size() == 100) {
          ingest(p, batch);
          batch = new JsonArray();
        }
      }
    }
    ingest(p, batch);
    JsonArray warning = new JsonArray();
    for (int i = 0; i < 40; i++) {
      warning.add(sign(Instant.now().minusSeconds(50 - i)));
    }
    ingest(p, warning);
    Receiver.Hit first = receiver.await("/alerts", h -> true, 1, 15_000).get(0);
    JsonArray critical = new JsonArray();
    for (int i = 0; i < 40; i++) {
      critical.add(sign(Instant.now().minusSeconds(10)));
    }
    ingest(p, critical);
    List<Receiver.Hit> hits = receiver.await("/alerts", h -> true, 2, 15_000);

    JsonObject was = first.json().getJsonObject("alert");
    JsonObject now = hits.get(1).json().getJsonObject("alert");
    assertThat(was.getString("severity")).isEqualTo("warning");
    assertThat(was.containsKey("escalated_from")).isFalse();
    assertThat(now.getString("severity")).isEqualTo("critical");
    assertThat(now.getString("escalated_from")).isEqualTo("warning");
    assertThat(now.getLong("alert_id")).isEqualTo(was.getLong("alert_id"));
    assertThat(hits.get(1).header("X-KeyPulse-Delivery")).isNotEqualTo(first.header("X-KeyPulse-Delivery"));
    assertThat(hits.get(1).header("X-KeyPulse-Signature"))
        .isEqualTo(Signer.sign(p.webhookSecret(), hits.get(1).body()));
    JsonArray alerts = api.get("/api/alerts?key_id=escalating", key(p.apiKey())).array("alerts");
    assertThat(alerts).hasSize(1);
    assertThat(alerts.getJsonObject(0).getString("severity")).isEqualTo("critical");
    assertThat(alerts.getJsonObject(0).getInteger("repeat_count")).isGreaterThanOrEqualTo(1);
  }

  private void ingest(Partner p, JsonArray batch) {
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
        .isEqualTo(202);
  }

  private static JsonObject sign(Instant at) {
    return new JsonObject().put("event_type", "signing_operation").put("key_id", "escalating")
        .put("occurred_at", at.toString()).put("data", new JsonObject().put("ip", "10.0.0.5").put("actor", "svc"));
  }
}
