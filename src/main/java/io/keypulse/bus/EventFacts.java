package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * What detection needs to know of a committed event (not its free-form details).
 *
 * @param policy      for policy events, the partner's policy name (data.policy), else null
 * @param previousId  the id of the same key's previous event: a shard that has not seen it yet catches up
 *                    from the event log first, so every key is detected in commit order
 */
public record EventFacts(long id, String partnerId, String keyId, String eventType, String canonicalType,
                         String severity, boolean severityDerived, String sourceIp, String actor, String policy,
                         long occurredAt, long createdAt, long previousId) {

  public static EventFacts of(StoredEvent stored) {
    NewEvent e = stored.event();
    Object policy = e.details() == null ? null : e.details().getValue("policy");
    return new EventFacts(stored.id(), e.partnerId(), e.keyId(), e.eventType(), e.canonicalType(), e.severity(),
        e.severityDerived(), e.sourceIp(), e.actor(), policy instanceof String s ? s : null,
        stored.occurredAt().toEpochMilli(), stored.createdAt().toEpochMilli(), stored.previousId());
  }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("partner_id", partnerId).put("key_id", keyId)
        .put("event_type", eventType).put("canonical_type", canonicalType).put("severity", severity)
        .put("severity_derived", severityDerived).put("source_ip", sourceIp).put("actor", actor)
        .put("policy", policy).put("occurred_at", occurredAt).put("created_at", createdAt).put("previous_id", previousId);
  }

  static EventFacts fromJson(JsonObject j) {
    return new EventFacts(j.getLong("id"), j.getString("partner_id"), j.getString("key_id"), j.getString("event_type"),
        j.getString("canonical_type"), j.getString("severity"), j.getBoolean("severity_derived"),
        j.getString("source_ip"), j.getString("actor"), j.getString("policy"), j.getLong("occurred_at"),
        j.getLong("created_at"), j.getLong("previous_id"));
  }
}
