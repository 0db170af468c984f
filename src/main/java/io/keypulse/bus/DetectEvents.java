package io.keypulse.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Detect these committed events (all owned by the receiving shard, in commit order). Answered with
 * {@link Detected}. {@code forwarded} marks a batch a shard passed on because it no longer owns
 * the keys; it is never passed on twice.
 */
public record DetectEvents(List<EventFacts> events, boolean forwarded) {

  JsonObject toJson() {
    JsonArray list = new JsonArray();
    events.forEach(e -> list.add(e.toJson()));
    return new JsonObject().put("events", list).put("forwarded", forwarded);
  }

  static DetectEvents fromJson(JsonObject json) {
    List<EventFacts> events = new ArrayList<>();
    json.getJsonArray("events").forEach(e -> events.add(EventFacts.fromJson((JsonObject) e)));
    return new DetectEvents(events, json.getBoolean("forwarded"));
  }
}
