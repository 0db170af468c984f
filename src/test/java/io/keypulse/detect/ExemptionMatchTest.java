package io.keypulse.detect;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Alerts;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** End to end: an exception mutes the alert of a finding it matches, not the finding's score. */
@DisplayName("A partner exception, in detection")
class ExemptionMatchTest extends NodeTest {

  @Test
  @DisplayName("a matching finding raises no alert, still scores its event, and is counted on the exception")
  void muted() {
    Partner p = api.register("Muted");
    Reply created = api.post("/api/v1/exceptions", new JsonObject().put("rule", "policy_violation").put("key_id", "k1")
        .put("source_ip_cidr", "10.1.0.0/16").put("actor", "ops").put("reason", "quarterly drill"), key(p.apiKey()));
    assertThat(created.status()).as(created.raw()).isEqualTo(201);
    long id = created.json().getJsonObject("exception").getLong("id");

    assertThat(ingest(p, "k1", "10.1.2.3", "ops").status()).isEqualTo(202);
    JsonObject scored = Sleep.poll(() -> {
      JsonObject e = api.get("/api/events?key_id=k1", key(p.apiKey())).array("events").getJsonObject(0);
      return e.getDouble("score") > 0 ? e : null;
    }, 15_000);
    assertThat(scored).as("the event was scored (unscored reads as 0)").isNotNull();
    assertThat(scored.getDouble("score")).isGreaterThanOrEqualTo(0.6);
    JsonObject counted = Sleep.poll(() -> {
      JsonObject e = api.get("/api/v1/exceptions/" + id, key(p.apiKey())).json().getJsonObject("exception");
      return e.getLong("matched") > 0 ? e : null;
    }, 15_000);
    assertThat(counted).as("the exception counted the match").isNotNull();
    assertThat(counted.getLong("matched")).isEqualTo(1);
    assertThat(counted.getString("last_matched_at")).isNotNull();

    // Outside the exception's range, the same finding alerts as ever: a muted finding must not open
    // a suppression window (check exemptions before KeyDetector.settle records lastFired).
    assertThat(ingest(p, "k1", "10.2.0.1", "ops").status()).isEqualTo(202);
    assertThat(Alerts.await(api, p, "rule=policy_violation&key_id=k1").getString("severity")).isEqualTo("warning");
    Alerts.policyViolation(api, p, "k2");
    assertThat(api.get("/api/alerts?key_id=k1", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
    assertThat(api.get("/api/v1/exceptions/" + id, key(p.apiKey())).json().getJsonObject("exception")
        .getLong("matched")).isEqualTo(1);
  }

  private Reply ingest(Partner p, String keyId, String ip, String actor) {
    return api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "policy_violation").put("key_id", keyId)
        .put("data", new JsonObject().put("ip", ip).put("actor", actor)), key(p.apiKey()));
  }
}
