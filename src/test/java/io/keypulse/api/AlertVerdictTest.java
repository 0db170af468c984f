package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Alerts;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A verdict given when acknowledging an alert")
class AlertVerdictTest extends NodeTest {

  @Test
  @DisplayName("an ack with no body, an empty body or {} works as before and leaves no verdict")
  void plainAck() {
    Partner p = api.register("Plain Ack");
    long none = Alerts.policyViolation(api, p, "k-none").getLong("id");
    Reply bare = api.send("POST", "/api/alerts/" + none + "/ack", null, null, key(p.apiKey()));
    assertThat(bare.status()).as(bare.raw()).isEqualTo(200);
    assertThat(bare.json().getJsonObject("alert").getString("status")).isEqualTo("acked");
    assertThat(bare.json().getJsonObject("alert").fieldNames()).contains("resolution", "note");
    assertThat(bare.json().getJsonObject("alert").getValue("resolution")).isNull();
    assertThat(bare.json().getJsonObject("alert").getValue("note")).isNull();

    long empty = Alerts.policyViolation(api, p, "k-empty").getLong("id");
    assertThat(api.send("POST", "/api/alerts/" + empty + "/ack", "application/json", new byte[0], key(p.apiKey()))
        .status()).isEqualTo(200);
    long braces = Alerts.policyViolation(api, p, "k-braces").getLong("id");
    assertThat(api.post("/api/alerts/" + braces + "/ack", new JsonObject(), key(p.apiKey())).status()).isEqualTo(200);
    assertThat(db.count("SELECT count(*) FROM alerts WHERE partner_id = ? AND status = 'acked' "
        + "AND resolution IS NULL AND resolved_at IS NULL", p.partnerId())).isEqualTo(3);
  }

  @Test
  @DisplayName("a verdict and note are stored and shown; a new verdict replaces them, a plain re-ack keeps them")
  void verdicts() {
    Partner p = api.register("Verdicts");
    long id = Alerts.policyViolation(api, p, "k1").getLong("id");
    Reply judged = api.post("/api/alerts/" + id + "/ack", new JsonObject().put("resolution", "false_positive")
        .put("note", "drill, see ticket\nOPS-12"), key(p.apiKey()));
    assertThat(judged.status()).as(judged.raw()).isEqualTo(200);
    JsonObject alert = judged.json().getJsonObject("alert");
    assertThat(alert.getString("resolution")).isEqualTo("false_positive");
    assertThat(alert.getString("note")).isEqualTo("drill, see ticket\nOPS-12");
    assertThat(alert.getString("status")).isEqualTo("acked");
    assertThat(db.count("SELECT count(*) FROM alerts WHERE id = ? AND resolution = 'false_positive' "
        + "AND resolved_at IS NOT NULL", id)).isEqualTo(1);

    Reply changed = api.post("/api/alerts/" + id + "/ack", new JsonObject().put("resolution", "benign"), key(p.apiKey()));
    assertThat(changed.json().getJsonObject("alert").getString("resolution")).isEqualTo("benign");
    assertThat(changed.json().getJsonObject("alert").getValue("note")).as("the note went with the old verdict").isNull();
    api.post("/api/alerts/" + id + "/ack", new JsonObject().put("resolution", "true_positive").put("note", "real"),
        key(p.apiKey()));
    Reply plain = api.send("POST", "/api/alerts/" + id + "/ack", null, null, key(p.apiKey()));
    assertThat(plain.json().getJsonObject("alert").getString("resolution")).isEqualTo("true_positive");
    assertThat(plain.json().getJsonObject("alert").getString("note")).isEqualTo("real");

    JsonObject listed = api.get("/api/alerts?key_id=k1", key(p.apiKey())).array("alerts").getJsonObject(0);
    assertThat(listed.getString("resolution")).isEqualTo("true_positive");
    assertThat(listed.getString("note")).isEqualTo("real");
  }

  @Test
  @DisplayName("a bad verdict is a 400 that names the problem and changes nothing; another partner's alert is a 404")
  void badVerdicts() {
    Partner p = api.register("Bad Verdicts");
    long id = Alerts.policyViolation(api, p, "k1").getLong("id");
    String path = "/api/alerts/" + id + "/ack";
    assertRefused(path, p, "{\"resolution\":\"maybe\"}", 400, "resolution must be one of");
    assertRefused(path, p, "{\"resolution\":1}", 400, "resolution must be one of");
    assertRefused(path, p, "{\"resolution\":\"benign\",\"verdict\":\"x\"}", 400, "unknown field verdict");
    assertRefused(path, p, new JsonObject().put("resolution", "benign").put("note", "n".repeat(1001)).encode(), 400,
        "at most 1000");
    assertRefused(path, p, "{\"resolution\":\"benign\",\"note\":\"a\\u0000b\"}", 400, "note contains a NUL");
    assertRefused(path, p, "{\"resolution\":\"benign\",\"note\":7}", 400, "note must be");
    assertRefused(path, p, "{\"note\":\"why\"}", 400, "comes with a resolution");
    assertRefused(path, p, "[]", 400, "JSON object");
    assertThat(api.send("POST", path, "text/plain", "benign".getBytes(StandardCharsets.UTF_8), key(p.apiKey()))
        .status()).isEqualTo(415);
    assertThat(db.count("SELECT count(*) FROM alerts WHERE id = ? AND status = 'open' AND resolution IS NULL", id))
        .isEqualTo(1);

    Partner other = api.register("Other Judge");
    assertRefused(path, other, "{\"resolution\":\"benign\"}", 404, "no alert " + id);
    assertThat(db.count("SELECT count(*) FROM alerts WHERE id = ? AND resolution IS NULL", id)).isEqualTo(1);
  }

  private void assertRefused(String path, Partner p, String body, int status, String hint) {
    Reply r = api.send("POST", path, "application/json", body.getBytes(StandardCharsets.UTF_8), key(p.apiKey()));
    assertThat(r.status()).as(body + " → " + r.raw()).isEqualTo(status);
    assertThat(r.json().getBoolean("success")).isFalse();
    assertThat(r.json().getString("message")).contains(hint);
  }
}
