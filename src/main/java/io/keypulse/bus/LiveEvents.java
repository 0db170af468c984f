package io.keypulse.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Function;

/**
 * One partner's events of a committed flush, for its live feed: {@code {"events":[...]}} in the
 * shape of GET /api/events. The JSON is built only when a listener exists (the codec asks for it
 * when delivering locally or sending to another node), once, and shared read-only by the local
 * listeners: at ingest speed most partners are watched by no one, and their events cost nothing.
 */
public final class LiveEvents {
  private final List<StoredEvent> events;
  private final Function<StoredEvent, JsonObject> shape;
  private JsonObject json;

  public LiveEvents(List<StoredEvent> events, Function<StoredEvent, JsonObject> shape) {
    this.events = events;
    this.shape = shape;
  }

  public synchronized JsonObject json() {
    if (json == null) {
      JsonArray list = new JsonArray();
      events.forEach(e -> list.add(shape.apply(e)));
      json = new JsonObject().put("events", list);
    }
    return json;
  }
}
