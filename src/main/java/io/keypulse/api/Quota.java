package io.keypulse.api;

import io.vertx.core.http.HttpServerResponse;

/** A rate-limit decision and the X-RateLimit-* headers that report it. */
record Quota(boolean allowed, long limit, long remaining, long resetEpochSeconds, long retryAfterSeconds) {

  void writeHeaders(HttpServerResponse response) {
    response.putHeader("X-RateLimit-Limit", Long.toString(limit))
        .putHeader("X-RateLimit-Remaining", Long.toString(remaining))
        .putHeader("X-RateLimit-Reset", Long.toString(resetEpochSeconds));
    if (!allowed) {
      response.putHeader("Retry-After", Long.toString(retryAfterSeconds));
    }
  }
}
