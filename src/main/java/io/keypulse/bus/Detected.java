package io.keypulse.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** For each event of a {@link DetectEvents}, in order: how many new alerts it raised, and its score. */
public record Detected(List<Integer> newAlerts, List<Double> scores) {

  JsonObject toJson() {
    return new JsonObject().put("new_alerts", new JsonArray(List.copyOf(newAlerts)))
        .put("scores", new JsonArray(List.copyOf(scores)));
  }

  static Detected fromJson(JsonObject json) {
    return new Detected(json.getJsonArray("new_alerts").stream().map(n -> ((Number) n).intValue()).toList(),
        json.getJsonArray("scores").stream().map(n -> ((Number) n).doubleValue()).toList());
  }
}
