package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** Take one request from a rate-limit bucket; sent to the node that owns the bucket. */
public record TakeToken(String bucket, int perMinute) {

  JsonObject toJson() {
    return new JsonObject().put("bucket", bucket).put("per_minute", perMinute);
  }

  static TakeToken fromJson(JsonObject json) {
    return new TakeToken(json.getString("bucket"), json.getInteger("per_minute"));
  }
}
