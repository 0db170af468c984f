package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** A key shard tells the partner's shard about a key creation; answered with {@link ProvisionVerdict}. */
public record ProvisionCheck(String partnerId, long eventId, long occurredAt) {

  JsonObject toJson() {
    return new JsonObject().put("partner_id", partnerId).put("event_id", eventId).put("occurred_at", occurredAt);
  }

  static ProvisionCheck fromJson(JsonObject json) {
    return new ProvisionCheck(json.getString("partner_id"), json.getLong("event_id"), json.getLong("occurred_at"));
  }
}
