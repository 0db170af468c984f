package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Alerts;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("GET /api/v1/detectors")
class DetectorReportTest extends NodeTest {
  private static final List<String> DETECTORS = List.of("signing_volume_spike", "off_hours_signing", "new_source_ip",
      "new_actor", "unauthorized_deletion", "provisioning_spike", "policy_violation", "critical_event",
      "rotation_overdue");

  @Test
  @DisplayName("lists the nine detectors in order, then the partner's thresholds, with the partner's own settings")
  void settings() {
    Partner p = api.register("Tuned");
    api.put("/api/v1/policies", new JsonObject().put("new_source_min_history", 3).put("rotation_policy_days", 30),
        key(p.apiKey()));
    api.post("/api/v1/thresholds", new JsonObject().put("name", "export_cap").put("event_type", "export")
        .put("key_id", "vault").put("threshold", 4).put("window", "1h"), key(p.apiKey()));
    Reply r = api.get("/api/v1/detectors", key(p.apiKey()));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getBoolean("success")).isTrue();
    assertThat(r.json().getString("partner_id")).isEqualTo(p.partnerId());
    JsonArray detectors = r.array("detectors");
    assertThat(rules(detectors)).containsExactlyElementsOf(concat(DETECTORS, "export_cap"));
    for (Object o : detectors) {
      JsonObject d = (JsonObject) o;
      assertThat(d.fieldNames()).containsExactly("rule", "description", "settings", "alerts_30d", "open", "verdicts",
          "precision");
      assertThat(d.getString("description")).as(d.getString("rule")).endsWith(".");
      assertThat(d.getLong("alerts_30d")).isZero();
      assertThat(d.getValue("precision")).isNull();
      assertThat(d.getJsonObject("verdicts")).isEqualTo(new JsonObject().put("true_positive", 0L)
          .put("false_positive", 0L).put("benign", 0L));
    }
    assertThat(find(detectors, "new_source_ip").getJsonObject("settings"))
        .isEqualTo(new JsonObject().put("new_source_min_history", 3).put("new_source_learning_hours", 24)
            .put("new_source_network_churn", 3).put("suppression_minutes", 60));
    assertThat(find(detectors, "rotation_overdue").getJsonObject("settings").getInteger("rotation_policy_days"))
        .isEqualTo(30);
    assertThat(find(detectors, "signing_volume_spike").getJsonObject("settings").getDouble("signing_spike_multiplier"))
        .isEqualTo(5.0);
    assertThat(find(detectors, "off_hours_signing").getJsonObject("settings").containsKey("business_hours")).isTrue();
    JsonObject cap = find(detectors, "export_cap").getJsonObject("settings");
    assertThat(cap.getInteger("threshold")).isEqualTo(4);
    assertThat(cap.getString("window")).isEqualTo("1h");
    assertThat(cap.getInteger("warn_at_pct")).isEqualTo(80);
  }

  @Test
  @DisplayName("counts the last 30 days' alerts, open ones and verdicts per rule; precision is (true + benign) / judged")
  void precision() {
    Partner p = api.register("Judge");
    long tp = Alerts.policyViolation(api, p, "k-tp").getLong("id");
    long fp = Alerts.policyViolation(api, p, "k-fp").getLong("id");
    long benign = Alerts.policyViolation(api, p, "k-benign").getLong("id");
    long plain = Alerts.policyViolation(api, p, "k-plain").getLong("id");
    Alerts.policyViolation(api, p, "k-open");
    verdict(p, tp, "true_positive");
    verdict(p, fp, "false_positive");
    verdict(p, benign, "benign");
    api.send("POST", "/api/alerts/" + plain + "/ack", null, null, key(p.apiKey()));
    // Older than the window: neither counted nor judged.
    db.execute("INSERT INTO alerts (partner_id, key_id, rule, kind, severity, description, evidence, status, "
        + "triggered_at, resolution) VALUES ('" + p.partnerId() + "', 'old', 'policy_violation', 'anomaly_detected', "
        + "'warning', 'old', '{}', 'acked', now() - interval '31 days', 'false_positive')");

    JsonObject pv = find(detectors(p), "policy_violation");
    assertThat(pv.getLong("alerts_30d")).isEqualTo(5);
    assertThat(pv.getLong("open")).isEqualTo(1);
    assertThat(pv.getJsonObject("verdicts")).isEqualTo(new JsonObject().put("true_positive", 1L)
        .put("false_positive", 1L).put("benign", 1L));
    assertThat(pv.getDouble("precision")).isEqualTo(0.667);
    assertThat(find(detectors(p), "critical_event").getLong("alerts_30d")).isZero();

    verdict(p, fp, "benign");
    JsonObject after = find(detectors(p), "policy_violation");
    assertThat(after.getJsonObject("verdicts").getLong("false_positive")).isZero();
    assertThat(after.getJsonObject("verdicts").getLong("benign")).isEqualTo(2);
    assertThat(after.getDouble("precision")).isEqualTo(1.0);
    verdict(p, tp, "false_positive");
    verdict(p, benign, "false_positive");
    assertThat(find(detectors(p), "policy_violation").getDouble("precision")).isEqualTo(0.333);

    Partner other = api.register("Bystander");
    JsonObject theirs = find(detectors(other), "policy_violation");
    assertThat(theirs.getLong("alerts_30d")).isZero();
    assertThat(theirs.getValue("precision")).isNull();
  }

  @Test
  @DisplayName("needs an API key")
  void auth() {
    assertThat(api.get("/api/v1/detectors").status()).isEqualTo(401);
  }

  private JsonArray detectors(Partner p) {
    return api.get("/api/v1/detectors", key(p.apiKey())).array("detectors");
  }

  private void verdict(Partner p, long alertId, String resolution) {
    Reply r = api.post("/api/alerts/" + alertId + "/ack", new JsonObject().put("resolution", resolution),
        key(p.apiKey()));
    assertThat(r.status()).as(r.raw()).isEqualTo(200);
  }

  private static List<String> rules(JsonArray detectors) {
    return detectors.stream().map(o -> ((JsonObject) o).getString("rule")).toList();
  }

  private static JsonObject find(JsonArray detectors, String rule) {
    return detectors.stream().map(JsonObject.class::cast).filter(d -> rule.equals(d.getString("rule"))).findFirst()
        .orElseThrow();
  }

  private static List<String> concat(List<String> list, String last) {
    return java.util.stream.Stream.concat(list.stream(), java.util.stream.Stream.of(last)).toList();
  }
}
