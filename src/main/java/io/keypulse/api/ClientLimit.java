package io.keypulse.api;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * A per-client-address budget for the doors that come before an API key: registration, the
 * operator API (its own limit, which also slows anyone guessing the operator token), and anonymous
 * traffic (public stats, failed credentials, unknown routes). Counted cluster-wide like the per-key
 * limits; every answer it covers carries its X-RateLimit-* headers.
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
    charge(ctx).onSuccess(refusal -> {
      if (refusal == null) {
        ctx.next();
      } else {
        ctx.fail(refusal);
      }
    }).onFailure(ctx::fail);
  }

  /**
   * Takes one request from the client's budget and writes its X-RateLimit-* headers; the 429 to
   * answer instead when the budget is spent, else null.
   */
  Future<HttpProblem> charge(RoutingContext ctx) {
    String client = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    return limiter.take(ctx.vertx(), bucket + ":" + client, perMinute).map(quota -> {
      RateLimiter.writeHeaders(quota, ctx.response());
      return quota.allowed() ? null
          : new HttpProblem(429, message, Map.of("Retry-After", Long.toString(quota.retryAfterSeconds())));
    });
  }

  /** Fails the request with {@code problem}, or with the 429 if the client's budget is spent. */
  void refuse(RoutingContext ctx, HttpProblem problem) {
    charge(ctx).onComplete(charged -> ctx.fail(charged.succeeded() && charged.result() != null ? charged.result()
        : problem));
  }
}
