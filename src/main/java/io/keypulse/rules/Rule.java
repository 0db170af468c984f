package io.keypulse.rules;

import io.vertx.core.json.JsonObject;

/** A partner's alert rule: events matching {@code eventTypeMatch} (raw or canonical type, * for all) go to its webhook. */
public record Rule(long id, String partnerId, String name, String eventTypeMatch, String webhookUrl, String severity,
                   boolean active) {

  /** As POST /api/v1/rules answers it (the first product document's shape). */
  public JsonObject created() {
    return new JsonObject().put("id", id).put("name", name).put("event_type_match", eventTypeMatch)
        .put("severity", severity).put("is_active", active);
  }

  /** As GET /api/v1/rules lists it. */
  public JsonObject listed() {
    return new JsonObject().put("id", id).put("name", name).put("event_type_match", eventTypeMatch)
        .put("webhook_url", webhookUrl).put("severity", severity).put("is_active", active);
  }
}
