package io.keypulse.api;

import io.vertx.ext.web.RoutingContext;

/** The authenticated partner behind a request, and the key it used. */
public record Caller(String partnerId, long apiKeyId) {
  private static final String KEY = "keypulse.caller";

  void attach(RoutingContext ctx) {
    ctx.put(KEY, this);
  }

  /** The caller of the request, or null on a public endpoint called without a key. */
  static Caller of(RoutingContext ctx) {
    return ctx.get(KEY);
  }
}
