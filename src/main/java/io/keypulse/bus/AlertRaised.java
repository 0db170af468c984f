package io.keypulse.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * An alert, committed (new, or raised to a higher severity). Published to every node for rules,
 * delivery and the live feed.
 *
 * @param escalatedFrom the severity it had before an escalation; null for a new alert
 * @param repeatCount   as stored: 0 for a new alert, counted up by repeats and escalations
 */
public record AlertRaised(long id, String partnerId, String keyId, String rule, String kind, String severity,
                          String description, JsonObject evidence, Long eventId, Instant triggeredAt,
                          Instant createdAt, String escalatedFrom, int repeatCount) {

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("partner_id", partnerId).put("key_id", keyId).put("rule", rule)
        .put("kind", kind).put("severity", severity).put("description", description).put("evidence", evidence)
        .put("event_id", eventId).put("triggered_at", triggeredAt).put("created_at", createdAt)
        .put("escalated_from", escalatedFrom).put("repeat_count", repeatCount);
  }

  static AlertRaised fromJson(JsonObject json) {
    return new AlertRaised(json.getLong("id"), json.getString("partner_id"), json.getString("key_id"),
        json.getString("rule"), json.getString("kind"), json.getString("severity"), json.getString("description"),
        json.getJsonObject("evidence"), json.getLong("event_id"), json.getInstant("triggered_at"),
        json.getInstant("created_at"), json.getString("escalated_from"), json.getInteger("repeat_count", 0));
  }
}
