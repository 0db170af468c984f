package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * POST /api/v1/events/ingest: {event_type, key_id, data?, source_ip?, actor?, severity?, occurred_at?}
 * or a batch {data: [...]}. IP and actor may also ride inside data. Answers 202 with evt_ ids.
 */
final class PartnerDialect implements Dialect {
  private final EventFields fields;
  private final int maxBatch;

  PartnerDialect(EventFields fields, int maxBatch) {
    this.fields = fields;
    this.maxBatch = maxBatch;
  }

  @Override
  public List<NewEvent> events(JsonObject body, String partnerId) {
    if (!(body.getValue("data") instanceof JsonArray)) {
      return List.of(event(body, partnerId, ""));
    }
    return Dialect.batch(body.getValue("data"), "data", maxBatch, (item, where) -> event(item, partnerId, where));
  }

  private NewEvent event(JsonObject json, String partnerId, String where) {
    String eventType = fields.eventType(json, where);
    String keyId = fields.keyId(json, where);
    EventFields.Details details = fields.details(json, "data", where);
    JsonObject data = details.object();
    String ip = firstNonNull(fields.ip(json.getValue("source_ip"), "source_ip", where),
        fields.ip(data.getValue("ip"), "data.ip", where),
        fields.ip(data.getValue("source_ip"), "data.source_ip", where));
    String actor = firstNonNull(fields.actor(json.getValue("actor"), "actor", where),
        fields.actor(data.getValue("actor"), "data.actor", where),
        fields.actor(data.getValue("triggered_by"), "data.triggered_by", where));
    String severity = fields.severity(json, where, false);
    String canonical = EventTypes.canonical(eventType, Boolean.TRUE.equals(data.getValue("export")));
    return new NewEvent(partnerId, keyId, eventType, canonical, severity == null ? "nominal" : severity,
        severity == null, ip, actor, data, fields.occurredAt(json, where), details.json());
  }

  @Override
  public int successStatus() {
    return 202;
  }

  @Override
  public boolean waitsForDetection() {
    return false;
  }

  @Override
  public JsonObject answer(JsonObject body, List<StoredEvent> stored, Detected detected) {
    if (body.getValue("data") instanceof JsonArray) {
      JsonArray ids = new JsonArray();
      stored.forEach(e -> ids.add("evt_" + e.id()));
      return new JsonObject().put("event_ids", ids);
    }
    return new JsonObject().put("event_id", "evt_" + stored.get(0).id());
  }

  private static String firstNonNull(String... values) {
    for (String v : values) {
      if (v != null) {
        return v;
      }
    }
    return null;
  }
}
