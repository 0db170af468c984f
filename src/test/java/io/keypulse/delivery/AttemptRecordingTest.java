package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Metrics;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Webhook attempts are written together, at most once per webhook.record_interval_ms")
class AttemptRecordingTest extends WebhookNodeTest {

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("record_interval_ms", 1000);
  }

  @Test
  @DisplayName("ten webhooks 50 ms apart: each sent at once, their attempts written in at most three statements")
  void writtenTogether() {
    Partner p = api.register("Recording");
    receiver.always("/recorded", 200);
    ruleForEveryEvent(p, "/recorded");
    double statements = statements();
    for (int i = 0; i < 10; i++) {
      long sent = System.nanoTime();
      String keyId = "recorded-" + i;
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed")
          .put("key_id", keyId), key(p.apiKey())).status()).isEqualTo(202);
      // Sent when it matched, not when the batch of its attempt is written.
      receiver.await("/recorded", h -> keyId.equals(h.json().getString("key_id")), 1, 5_000);
      assertThat((System.nanoTime() - sent) / 1_000_000).as("ms from ingest to webhook").isLessThan(900);
      Sleep.millis(50);
    }
    String delivered = "SELECT count(*) FROM deliveries WHERE status = 'delivered' AND partner_id = '"
        + p.partnerId() + "'";
    assertThat(Sleep.poll(() -> db.count(delivered) == 10 ? true : null, 10_000)).as("all ten recorded").isTrue();
    // Written one by one as each finished, ten statements; within the interval, a few.
    assertThat(statements() - statements).as("statements that wrote the ten attempts").isBetween(1.0, 3.0);
  }

  private double statements() {
    return Metrics.sum(api.get("/metrics").raw(), "keypulse_webhook_attempts_recorded_count");
  }
}
