package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The outbox keeps finished deliveries for the retention period, then deletes them")
class OutboxRetentionTest extends WebhookNodeTest {

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = super.settings(pg);
    s.put("schedule.retention_check_seconds", 1);
    s.put("schedule.delivery_retention_days", 30);
    return s;
  }

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("retry_delays_ms", "100");
  }

  @Test
  @DisplayName("a delivery finished 31 days ago goes with its attempt log; a recent one and a pending one stay")
  void oldFinishedDeliveriesGo() {
    Partner p = api.register("Retention");
    receiver.always("/keep", 200);
    ruleForEveryEvent(p, "/keep");
    for (String keyId : new String[] {"old", "recent"}) {
      api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", keyId),
          key(p.apiKey()));
    }
    String partner = "'" + p.partnerId() + "'";
    assertThat(Sleep.poll(() -> db.count("SELECT count(*) FROM deliveries WHERE status = 'delivered' AND partner_id = "
        + partner) == 2 ? true : null, 10_000)).isTrue();
    long oldId = db.<Long>column("SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id "
        + "WHERE e.key_id = 'old' AND d.partner_id = " + partner).get(0);
    db.execute("UPDATE deliveries SET finished_at = now() - interval '31 days' WHERE id = " + oldId);
    db.execute("INSERT INTO deliveries (partner_id, event, url, payload, next_attempt_at, created_at) VALUES ("
        + partner + ", 'test', 'http://127.0.0.1:1/never', '{}', now() + interval '1 day', now() - interval '40 days')");

    assertThat(Sleep.poll(() -> db.count("SELECT count(*) FROM deliveries WHERE id = " + oldId) == 0 ? true : null,
        10_000)).as("the old delivery deleted").isTrue();
    assertThat(db.count("SELECT count(*) FROM delivery_attempts WHERE delivery_id = " + oldId)).isZero();
    assertThat(db.count("SELECT count(*) FROM deliveries WHERE partner_id = " + partner)).as("recent and pending stay")
        .isEqualTo(2);
  }
}
