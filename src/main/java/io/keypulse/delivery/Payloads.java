package io.keypulse.delivery;

import io.keypulse.api.Times;
import io.keypulse.bus.StoredEvent;
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
    return ruleMatch(event.getLong("id"), event.getString("event_type"), event.getString("key_id"),
        event.getOffsetDateTime("occurred_at").toInstant(), event.getString("details"), ruleId);
  }

  /**
   * The same body from the event as its flush committed it: the details text is what the json
   * column stored verbatim, and the event time is the one the commit returned, so the bytes equal
   * those a retry builds from the row.
   */
  static String ruleMatch(StoredEvent event, long ruleId) {
    return ruleMatch(event.id(), event.event().eventType(), event.event().keyId(), event.occurredAt(),
        event.event().detailsText(), ruleId);
  }

  private static String ruleMatch(long eventId, String eventType, String keyId, Instant occurredAt, String details,
                                  long ruleId) {
    return WebhookJson.encode(new JsonObject()
        .put("event_id", eventId)
        .put("event_type", eventType)
        .put("key_id", keyId)
        .put("timestamp", Times.iso(occurredAt))
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
