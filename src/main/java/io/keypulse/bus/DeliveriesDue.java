package io.keypulse.bus;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * New webhooks wait in the outbox; delivery actors should claim them now rather than at their next poll.
 *
 * @param requests for rule matches: event id -> the id of the request that ingested it, so the delivery
 *                 actor that claims the row logs its attempts with that request's id
 */
public record DeliveriesDue(int count, Map<Long, String> requests) {

  public DeliveriesDue(int count) {
    this(count, Map.of());
  }

  JsonObject toJson() {
    JsonObject ids = new JsonObject();
    requests.forEach((event, request) -> ids.put(Long.toString(event), request));
    return new JsonObject().put("count", count).put("requests", ids);
  }

  static DeliveriesDue fromJson(JsonObject json) {
    Map<Long, String> requests = new HashMap<>();
    JsonObject ids = json.getJsonObject("requests", new JsonObject());
    ids.forEach(entry -> requests.put(Long.parseLong(entry.getKey()), String.valueOf(entry.getValue())));
    return new DeliveriesDue(json.getInteger("count"), requests);
  }
}
