package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** A rate-limit decision: what the X-RateLimit-* headers report, and Retry-After when refused. */
public record Quota(boolean allowed, long limit, long remaining, long resetEpochSeconds, long retryAfterSeconds) {

  JsonObject toJson() {
    return new JsonObject().put("allowed", allowed).put("limit", limit).put("remaining", remaining)
        .put("reset", resetEpochSeconds).put("retry_after", retryAfterSeconds);
  }

  static Quota fromJson(JsonObject json) {
    return new Quota(json.getBoolean("allowed"), json.getLong("limit"), json.getLong("remaining"),
        json.getLong("reset"), json.getLong("retry_after"));
  }
}
