package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * How one API dialect reads an ingest request and shapes its answer. The ingest path itself
 * (auth, validation rules, group commit, publication) is shared by both.
 */
interface Dialect {
  /** The request's events, validated: all of them, or a 400 naming the first bad one. */
  List<NewEvent> events(JsonObject body, String partnerId);

  int successStatus();

  /** True when the answer reports alerts_triggered, so the request waits for the detectors. */
  boolean waitsForDetection();

  /** @param detected per stored event, the alerts it raised and its score (zeros when not waited for) */
  JsonObject answer(JsonObject body, List<StoredEvent> stored, Detected detected);

  /** Reads a batch field (1 to max objects) with the dialect's parser; errors name field[index]. */
  static List<NewEvent> batch(Object value, String field, int max, BiFunction<JsonObject, String, NewEvent> parse) {
    if (!(value instanceof JsonArray items)) {
      throw HttpProblem.badRequest(field + " must be an array of events");
    }
    if (items.isEmpty() || items.size() > max) {
      throw HttpProblem.badRequest(field + " must hold 1 to " + max + " events");
    }
    List<NewEvent> events = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      String where = field + "[" + i + "]";
      if (!(items.getValue(i) instanceof JsonObject item)) {
        throw HttpProblem.badRequest(where + ": each event must be a JSON object");
      }
      events.add(parse.apply(item, where));
    }
    return events;
  }
}
