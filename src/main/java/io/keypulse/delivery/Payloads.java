package io.keypulse.delivery;

import io.keypulse.api.Times;
import io.keypulse.json.ExactJson;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The bodies partners receive, in the first product document's shapes: rule matches as
 * {event_id, event_type, key_id, timestamp, metadata, rule_id}; alerts as {event, timestamp,
 * partner_id, alert{...}}, the alert holding the document's fields for its kind, then its full
 * evidence and id. Written by {@link WebhookJson}.
 */
public final class Payloads {
  /** The document's alert fields per kind, taken from the evidence when present. */
  private static final Map<String, List<String>> SEED_FIELDS = Map.of(
      "anomaly_detected", List.of("baseline_rph", "current_rph"),
      "rotation_overdue", List.of("last_rotated", "overdue_by_days", "policy_window_days"),
      "threshold_breach", List.of("rule_name", "threshold", "current", "window"));

  private Payloads() {}

  /** The event's details (read as text, so numbers keep the partner's spelling) are its metadata. */
  static String ruleMatch(Row event, long ruleId) {
    String details = event.getString("details");
    return WebhookJson.encode(new JsonObject()
        .put("event_id", event.getLong("id"))
        .put("event_type", event.getString("event_type"))
        .put("key_id", event.getString("key_id"))
        .put("timestamp", Times.iso(event.getOffsetDateTime("occurred_at").toInstant()))
        .put("metadata", details == null ? new JsonObject() : ExactJson.object(details))
        .put("rule_id", ruleId));
  }

  /**
   * An alert's body. {@code escalatedFrom}: the severity an escalated alert had, for the webhook
   * that announces the escalation (same alert id); null otherwise.
   */
  public static String alert(Row alert, String partnerId, String escalatedFrom) {
    String kind = alert.getString("kind");
    JsonObject evidence = alert.getJsonObject("evidence");
    JsonObject body = new JsonObject().put("key_id", alert.getString("key_id"));
    if (!"threshold_breach".equals(kind)) {
      body.put("rule", alert.getString("rule"));
    }
    body.put("severity", alert.getString("severity"));
    if ("threshold_breach".equals(kind)) {
      body.put("rule_name", alert.getString("rule"));
    }
    body.put("description", alert.getString("description"));
    for (String field : SEED_FIELDS.getOrDefault(kind, List.of())) {
      if (evidence.containsKey(field) && !body.containsKey(field)) {
        body.put(field, evidence.getValue(field));
      }
    }
    body.put("triggered_at", Times.iso(alert.getOffsetDateTime("triggered_at").toInstant()))
        .put("evidence", evidence)
        .put("alert_id", alert.getLong("id"));
    if (escalatedFrom != null) {
      body.put("escalated_from", escalatedFrom);
    }
    return WebhookJson.encode(new JsonObject().put("event", kind)
        .put("timestamp", Times.iso(alert.getOffsetDateTime("created_at").toInstant()))
        .put("partner_id", partnerId).put("alert", body));
  }

  static String test(String partnerId, Instant now) {
    return WebhookJson.encode(new JsonObject().put("event", "test").put("timestamp", Times.iso(now))
        .put("partner_id", partnerId).put("message", "KeyPulse test webhook: your endpoint verifies signatures"));
  }
}
