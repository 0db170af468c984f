package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** New webhooks wait in the outbox; delivery actors should claim them now rather than at their next poll. */
public record DeliveriesDue(int count) {

  JsonObject toJson() {
    return new JsonObject().put("count", count);
  }

  static DeliveriesDue fromJson(JsonObject json) {
    return new DeliveriesDue(json.getInteger("count"));
  }
}
