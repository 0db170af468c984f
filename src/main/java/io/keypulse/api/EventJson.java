package io.keypulse.api;

import io.keypulse.bus.StoredEvent;
import io.vertx.core.json.JsonObject;

/**
 * The one JSON shape of a stored event, used by ingest answers and queries alike. Only scores of at
 * least 0.1 are stored; an event without one scores 0.
 */
public final class EventJson {
  private EventJson() {}

  public static JsonObject of(StoredEvent stored) {
    var e = stored.event();
    return new JsonObject()
        .put("id", stored.id())
        .put("key_id", e.keyId())
        .put("event_type", e.eventType())
        .put("severity", e.severity())
        .put("score", stored.score() == null ? 0.0 : stored.score())
        .put("source_ip", e.sourceIp())
        .put("actor", e.actor())
        .put("details", e.details())
        .put("occurred_at", Times.iso(stored.occurredAt()))
        .put("created_at", Times.iso(stored.createdAt()));
  }
}
