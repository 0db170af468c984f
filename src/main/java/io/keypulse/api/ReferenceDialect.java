package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * POST /api/events {key_id, event_type, severity, source_ip?, actor?, details?, occurred_at?} and
 * POST /api/events/batch {events: [...]}: severity is required; answers 201 with the stored events.
 */
final class ReferenceDialect implements Dialect {
  private final EventFields fields;
  private final int maxBatch;
  private final boolean batch;

  private ReferenceDialect(EventFields fields, int maxBatch, boolean batch) {
    this.fields = fields;
    this.maxBatch = maxBatch;
    this.batch = batch;
  }

  static ReferenceDialect single(EventFields fields) {
    return new ReferenceDialect(fields, 1, false);
  }

  static ReferenceDialect batch(EventFields fields, int maxBatch) {
    return new ReferenceDialect(fields, maxBatch, true);
  }

  @Override
  public List<NewEvent> events(JsonObject body, String partnerId) {
    if (!batch) {
      return List.of(event(body, partnerId, ""));
    }
    return Dialect.batch(body.getValue("events"), "events", maxBatch, (item, where) -> event(item, partnerId, where));
  }

  private NewEvent event(JsonObject json, String partnerId, String where) {
    String keyId = fields.keyId(json, where);
    String eventType = fields.eventType(json, where);
    String severity = fields.severity(json, where, true);
    EventFields.Details details = fields.details(json, "details", where);
    String canonical = EventTypes.canonical(eventType, Boolean.TRUE.equals(details.object().getValue("export")));
    return new NewEvent(partnerId, keyId, eventType, canonical, severity, false,
        fields.ip(json.getValue("source_ip"), "source_ip", where), fields.actor(json.getValue("actor"), "actor", where),
        details.object(), fields.occurredAt(json, where), details.json());
  }

  @Override
  public int successStatus() {
    return 201;
  }

  @Override
  public boolean waitsForDetection() {
    return true;
  }

  @Override
  public JsonObject answer(JsonObject body, List<StoredEvent> stored, Detected detected) {
    if (!batch) {
      return new JsonObject().put("success", true).mergeIn(event(stored, detected, 0));
    }
    JsonArray events = new JsonArray();
    for (int i = 0; i < stored.size(); i++) {
      events.add(event(stored, detected, i));
    }
    return new JsonObject().put("success", true).put("count", stored.size()).put("events", events);
  }

  private static JsonObject event(List<StoredEvent> stored, Detected detected, int i) {
    return EventJson.of(stored.get(i)).put("score", detected.scores().get(i))
        .put("alerts_triggered", detected.newAlerts().get(i) + stored.get(i).ruleMatches());
  }
}
