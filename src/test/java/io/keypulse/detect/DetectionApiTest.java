package io.keypulse.detect;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Detection through the API")
class DetectionApiTest extends NodeTest {


  @Test
  @DisplayName("a week of backfill makes the baseline ready; a burst raises a critical spike, scores and severities follow")
  void spikeAfterBackfill() {
    Partner p = api.register("Spike");
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    assertThat(find(api.get("/api/keys", key(p.apiKey())).array("keys"), "k")).isNull();
    backfill(p, "hot-key", hour, 6);
    assertThat(find(api.get("/api/keys", key(p.apiKey())).array("keys"), "hot-key").getString("baseline_state"))
        .isEqualTo("ready");
    JsonArray burst = new JsonArray();
    for (int i = 0; i < 90; i++) {
      burst.add(sign("hot-key", Instant.now().minusSeconds(59 - i % 60)));
    }
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", burst), key(p.apiKey())).status())
        .isEqualTo(202);

    JsonObject alert = await(p, "key_id=hot-key&rule=signing_volume_spike", a -> "critical".equals(a.getString("severity")));
    assertThat(alert.getString("description")).matches("Signing rate \\d+× above usual for this hour.*");
    assertThat(alert.getString("escalated_from")).isEqualTo("warning");
    assertThat(alert.getJsonObject("evidence").fieldNames()).contains("baseline", "observed", "threshold", "window");
    assertThat(alert.getString("status")).isEqualTo("open");
    assertThat(alert.getLong("event_id")).isNotNull();
    awaitScored(p);
    Reply critical = api.get("/api/events?key_id=hot-key&severity=critical&limit=500", key(p.apiKey()));
    assertThat(critical.json().getInteger("count")).isGreaterThan(0);
    assertThat(critical.array("events").getJsonObject(0).getDouble("score")).isGreaterThanOrEqualTo(0.9);
    JsonObject stats = api.get("/api/stats", key(p.apiKey())).json().getJsonObject("severity_breakdown");
    assertThat(stats.getLong("critical")).isEqualTo(critical.json().getLong("count"));
    assertThat(stats.getLong("warning")).isEqualTo(
        api.get("/api/events?severity=warning&limit=500", key(p.apiKey())).json().getLong("count"));
  }

  @Test
  @DisplayName("the reference dialect reports alerts_triggered; a suppressed repeat reports 0 and counts on the alert")
  void alertsTriggered() {
    Partner p = api.register("Triggered");
    JsonObject event = new JsonObject().put("key_id", "vault-1").put("event_type", "policy_change")
        .put("severity", "critical").put("details", new JsonObject().put("policy", "geo_fence"));
    Reply first = api.post("/api/events", event, key(p.apiKey()));
    assertThat(first.json().getInteger("alerts_triggered")).isEqualTo(2);
    Reply again = api.post("/api/events", event, key(p.apiKey()));
    assertThat(again.json().getInteger("alerts_triggered")).isZero();
    JsonObject alert = await(p, "rule=policy_violation", a -> a.getInteger("repeat_count") == 1);
    assertThat(alert.getString("description")).isEqualTo("Policy violation reported: geo_fence");
    assertThat(alert.getString("severity")).isEqualTo("critical");
    assertThat(api.get("/api/alerts?rule=critical_event", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
  }

  @Test
  @DisplayName("alerts filter and page; an ack is visible, and another partner can neither see nor ack them")
  void alertHistory() {
    Partner p = api.register("History");
    for (int i = 0; i < 5; i++) {
      api.post("/api/events", new JsonObject().put("key_id", "k" + i).put("event_type", "policy_violation")
          .put("severity", i % 2 == 0 ? "critical" : "nominal"), key(p.apiKey()));
    }
    Reply page = api.get("/api/alerts?rule=policy_violation&limit=2", key(p.apiKey()));
    assertThat(page.json().getInteger("count")).isEqualTo(2);
    Long cursor = page.json().getLong("next_before_id");
    Reply rest = api.get("/api/alerts?rule=policy_violation&limit=10&before_id=" + cursor, key(p.apiKey()));
    assertThat(rest.json().getInteger("count")).isEqualTo(3);
    assertThat(rest.json().getValue("next_before_id")).isNull();
    assertThat(api.get("/api/alerts?severity=critical&rule=policy_violation", key(p.apiKey())).json()
        .getInteger("count")).isEqualTo(3);
    long id = page.array("alerts").getJsonObject(0).getLong("id");

    Partner other = api.register("Nosy");
    assertThat(api.post("/api/alerts/" + id + "/ack", new JsonObject(), key(other.apiKey())).status()).isEqualTo(404);
    assertThat(api.get("/api/alerts", key(other.apiKey())).json().getInteger("count")).isZero();
    Reply acked = api.post("/api/alerts/" + id + "/ack", new JsonObject(), key(p.apiKey()));
    assertThat(acked.json().getJsonObject("alert").getString("status")).isEqualTo("acked");
    assertThat(api.get("/api/alerts?status=acked", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
    assertThat(api.get("/api/alerts?status=closed", key(p.apiKey())).status()).isEqualTo(400);
  }

  @Test
  @DisplayName("a policy change takes effect at once: with no history minimum nor learning, a second IP is new")
  void policies() {
    Partner p = api.register("Policy");
    JsonObject defaults = api.get("/api/v1/policies", key(p.apiKey())).json().getJsonObject("policy");
    assertThat(defaults.getDouble("signing_spike_multiplier")).isEqualTo(5.0);
    assertThat(defaults.getInteger("new_source_min_history")).isEqualTo(20);
    assertThat(api.put("/api/v1/policies", new JsonObject().put("new_source_min_history", -1), key(p.apiKey())).status())
        .isEqualTo(400);
    assertThat(api.put("/api/v1/policies", new JsonObject().put("spike", 3), key(p.apiKey())).status()).isEqualTo(400);
    Reply put = api.put("/api/v1/policies", new JsonObject().put("new_source_min_history", 1)
        .put("new_source_learning_hours", 0), key(p.apiKey()));
    assertThat(put.json().getJsonObject("policy").getInteger("new_source_min_history")).isEqualTo(1);
    assertThat(put.json().getJsonObject("overrides")).isEqualTo(new JsonObject().put("new_source_min_history", 1)
        .put("new_source_learning_hours", 0));

    api.post("/api/events", access("wallet", "10.0.0.1"), key(p.apiKey()));
    Reply second = api.post("/api/events", access("wallet", "10.9.9.9"), key(p.apiKey()));
    assertThat(second.json().getInteger("alerts_triggered")).isEqualTo(1);
    Reply reset = api.put("/api/v1/policies", new JsonObject().putNull("new_source_min_history"), key(p.apiKey()));
    assertThat(reset.json().getJsonObject("policy").getInteger("new_source_min_history")).isEqualTo(20);
    assertThat(api.post("/api/events", access("wallet", "10.7.7.7"), key(p.apiKey())).json()
        .getInteger("alerts_triggered")).isZero();

    api.put("/api/v1/policies", new JsonObject().put("learning_hours", 1).put("rotation_policy_days", 30),
        key(p.apiKey()));
    for (Instant at : List.of(Instant.now().minus(2, ChronoUnit.HOURS), Instant.now())) {
      api.post("/api/events", access("wallet", "10.0.0.1").put("event_type", "signing_request")
          .put("occurred_at", at.toString()), key(p.apiKey()));
    }
    JsonObject wallet = find(api.get("/api/keys", key(p.apiKey())).array("keys"), "wallet");
    assertThat(wallet.getString("baseline_state")).as("the partner's learning period").isEqualTo("ready");
    assertThat(wallet.getInteger("rotation_policy_days")).as("the partner's rotation policy").isEqualTo(30);
  }

  @Test
  @DisplayName("thresholds: created, listed, fire at 80 % and 100 %, and stop when deleted")
  void thresholds() {
    Partner p = api.register("Caps");
    JsonObject cap = new JsonObject().put("name", "daily_signing_cap").put("event_type", "signing_operation")
        .put("key_id", "pool-1").put("threshold", 5).put("window", "24h").put("warn_at_pct", 80);
    Reply created = api.post("/api/v1/thresholds", cap, key(p.apiKey()));
    assertThat(created.status()).isEqualTo(201);
    long id = created.json().getJsonObject("threshold").getLong("id");
    assertThat(api.post("/api/v1/thresholds", cap, key(p.apiKey())).status()).as("same name").isEqualTo(400);
    assertThat(api.post("/api/v1/thresholds", cap.copy().put("name", "x").put("window", "2h"), key(p.apiKey())).status())
        .isEqualTo(400);
    assertThat(api.get("/api/v1/thresholds", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
    Reply everyKey = api.post("/api/v1/thresholds", new JsonObject().put("name", "all_keys_exports")
        .put("event_type", "export").put("threshold", 100).put("window", "1h"), key(p.apiKey()));
    assertThat(everyKey.status()).isEqualTo(201);
    assertThat(everyKey.json().getJsonObject("threshold").getValue("key_id")).isNull();
    assertThat(everyKey.json().getJsonObject("threshold").getInteger("warn_at_pct")).isEqualTo(80);

    JsonArray five = new JsonArray();
    for (int i = 0; i < 5; i++) {
      five.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "pool-1"));
    }
    api.post("/api/v1/events/ingest", new JsonObject().put("data", five), key(p.apiKey()));
    JsonObject warning = await(p, "rule=daily_signing_cap&severity=warning", a -> true);
    assertThat(warning.getString("kind")).isEqualTo("threshold_breach");
    assertThat(warning.getJsonObject("evidence").getLong("current")).isEqualTo(4);
    await(p, "rule=daily_signing_cap&severity=critical", a -> a.getJsonObject("evidence").getLong("current") == 5);

    assertThat(api.delete("/api/v1/thresholds/" + id, key(p.apiKey())).json().getLong("deactivated")).isEqualTo(id);
    assertThat(api.delete("/api/v1/thresholds/" + id, key(p.apiKey())).status()).isEqualTo(404);
    Partner other = api.register("Caps Other");
    assertThat(api.get("/api/v1/thresholds", key(other.apiKey())).json().getInteger("count")).isZero();
    assertThat(api.delete("/api/v1/thresholds/" + id, key(other.apiKey())).status()).isEqualTo(404);
  }

  @Test
  @DisplayName("PATCH a key: business hours make an off-hours signing alert; bad fields are 400, unknown keys 404")
  void keyOverrides() {
    Partner p = api.register("Overrides");
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    backfill(p, "desk-key", hour, 1);
    JsonObject nightOnly = new JsonObject().put("timezone", "UTC").put("days",
            new JsonArray().add("mon").add("tue").add("wed").add("thu").add("fri").add("sat").add("sun"))
        .put("start", hour.atOffset(java.time.ZoneOffset.UTC).plusHours(3).toLocalTime().toString())
        .put("end", hour.atOffset(java.time.ZoneOffset.UTC).plusHours(4).toLocalTime().toString());
    Reply patched = api.send("PATCH", "/api/keys/desk-key", "application/json", new JsonObject()
        .put("name", "Desk key").put("rotation_policy_days", 30).put("business_hours", nightOnly).toBuffer().getBytes(),
        key(p.apiKey()));
    assertThat(patched.status()).isEqualTo(200);
    assertThat(patched.json().getJsonObject("key").getInteger("rotation_policy_days")).isEqualTo(30);
    assertThat(patched.json().getJsonObject("key").getString("name")).isEqualTo("Desk key");
    awaitUntil(() -> api.post("/api/events", new JsonObject().put("key_id", "desk-key")
        .put("event_type", "signing_request").put("severity", "nominal"), key(p.apiKey())).json()
        .getInteger("alerts_triggered") > 0 || !api.get("/api/alerts?rule=off_hours_signing", key(p.apiKey())).array("alerts").isEmpty());
    assertThat(api.get("/api/alerts?rule=off_hours_signing", key(p.apiKey())).array("alerts").getJsonObject(0)
        .getString("description")).contains("outside business hours");

    assertThat(api.send("PATCH", "/api/keys/nope", "application/json", "{\"name\":\"x\"}".getBytes(), key(p.apiKey()))
        .status()).isEqualTo(404);
    assertThat(api.send("PATCH", "/api/keys/desk-key", "application/json", "{\"rotation_policy_days\":0}".getBytes(),
        key(p.apiKey())).status()).isEqualTo(400);
    assertThat(api.send("PATCH", "/api/keys/desk-key", "application/json",
        "{\"business_hours\":{\"timezone\":\"Mars/Olympus\",\"start\":\"09:00\",\"end\":\"17:00\"}}".getBytes(),
        key(p.apiKey())).status()).isEqualTo(400);
    assertThat(api.send("PATCH", "/api/keys/desk-key", "application/json", "{\"colour\":\"red\"}".getBytes(),
        key(p.apiKey())).status()).isEqualTo(400);
  }

  @Test
  @DisplayName("the scheduler raises rotation_overdue for an idle key, once")
  void scheduledRotation() {
    Partner p = api.register("Rotation");
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_created").put("key_id", "old-key")
        .put("occurred_at", Instant.now().minus(97, ChronoUnit.DAYS).toString()), key(p.apiKey()));
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_created").put("key_id", "young-key")
        .put("occurred_at", Instant.now().minus(89, ChronoUnit.DAYS).toString()), key(p.apiKey()));
    JsonObject alert = await(p, "rule=rotation_overdue", a -> true);
    assertThat(alert.getString("key_id")).isEqualTo("old-key");
    assertThat(alert.getString("description")).isEqualTo("Key not rotated in 97 days (policy: 90d)");
    assertThat(alert.getValue("event_id")).isNull();
    Sleep.millis(3000);
    assertThat(api.get("/api/alerts?rule=rotation_overdue", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
  }

  @Test
  @DisplayName("an event committed but never handed to a detector (its node died) is caught up on and alerted")
  void rescue() {
    Partner p = api.register("Rescue");
    // What the event store commits, without the hand-over to detection that a dead node never made.
    db.execute("WITH e AS (INSERT INTO events (partner_id, key_id, event_type, canonical_type, severity, details, "
        + "occurred_at, created_at) VALUES ('" + p.partnerId() + "', 'orphan', 'policy_violation', 'policy', "
        + "'nominal', '{\"policy\":\"lost\"}', now(), now()) RETURNING id) "
        + "INSERT INTO keys (partner_id, key_id, event_count, first_event_at, last_activity, last_event_id, "
        + "last_commit_at) SELECT '" + p.partnerId() + "', 'orphan', 1, now(), now(), id, now() FROM e");
    JsonObject alert = await(p, "rule=policy_violation&key_id=orphan", a -> true);
    assertThat(alert.getString("description")).isEqualTo("Policy violation reported: lost");
    assertThat(db.count("SELECT count(*) FROM events WHERE key_id = 'orphan' AND score >= 0.6")).isEqualTo(1);
  }

  private void backfill(Partner p, String keyId, Instant hour, int perHour) {
    JsonArray batch = new JsonArray();
    for (int h = 168; h >= 2; h--) {
      for (int i = 0; i < perHour; i++) {
        batch.add(sign(keyId, hour.minus(h, ChronoUnit.HOURS).plus(60L * i / perHour, ChronoUnit.MINUTES)));
        if (batch.size() == 100) {
          assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
              .isEqualTo(202);
          batch = new JsonArray();
        }
      }
    }
    if (!batch.isEmpty()) {
      api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey()));
    }
  }

  private static JsonObject sign(String keyId, Instant at) {
    return new JsonObject().put("event_type", "signing_operation").put("key_id", keyId).put("occurred_at", at.toString())
        .put("data", new JsonObject().put("ip", "10.0.0.5").put("actor", "tx-processor"));
  }

  private static JsonObject access(String keyId, String ip) {
    return new JsonObject().put("key_id", keyId).put("event_type", "key_access").put("severity", "nominal")
        .put("source_ip", ip);
  }

  private JsonObject await(Partner p, String query, Predicate<JsonObject> matches) {
    long deadline = System.currentTimeMillis() + 15_000;
    while (System.currentTimeMillis() < deadline) {
      for (Object a : api.get("/api/alerts?limit=500&" + query, key(p.apiKey())).array("alerts")) {
        if (matches.test((JsonObject) a)) {
          return (JsonObject) a;
        }
      }
      Sleep.millis(200);
    }
    throw new AssertionError("no alert matching " + query);
  }

  /** Every key of the partner checkpointed up to its last event: all of them detected. */
  private void awaitScored(Partner p) {
    awaitUntil(() -> db.count("SELECT count(*) FROM keys k LEFT JOIN detector_state d ON d.owner = 'k:' || k.partner_id "
        + "|| '/' || k.key_id WHERE k.partner_id = ? AND k.last_event_id > coalesce(d.last_event_id, 0)",
        p.partnerId()) == 0);
  }

  private static void awaitUntil(java.util.function.BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + 15_000;
    while (!condition.getAsBoolean()) {
      assertThat(System.currentTimeMillis()).as("condition met in time").isLessThan(deadline);
      Sleep.millis(200);
    }
  }

  private static JsonObject find(JsonArray keys, String keyId) {
    return keys.stream().map(JsonObject.class::cast).filter(k -> keyId.equals(k.getString("key_id"))).findFirst()
        .orElse(null);
  }

}
