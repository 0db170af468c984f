package io.keypulse.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * A per-client-address budget for the doors that come before an API key: registration, and the
 * operator API (its own limit, which also slows anyone guessing the operator token). Counted
 * cluster-wide like the per-key limits.
 */
public final class ClientLimit implements Handler<RoutingContext> {
  private final RateLimiter limiter;
  private final String bucket;
  private final int perMinute;
  private final String message;

  public ClientLimit(RateLimiter limiter, String bucket, int perMinute, String message) {
    this.limiter = limiter;
    this.bucket = bucket;
    this.perMinute = perMinute;
    this.message = message;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String client = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    limiter.take(ctx.vertx(), bucket + ":" + client, perMinute).onSuccess(quota -> {
      RateLimiter.writeHeaders(quota, ctx.response());
      if (quota.allowed()) {
        ctx.next();
      } else {
        ctx.fail(new HttpProblem(429, message, Map.of("Retry-After", Long.toString(quota.retryAfterSeconds()))));
      }
    }).onFailure(ctx::fail);
  }
}
