package io.keypulse.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/** Registration is public: a per-client-IP budget keeps one client from minting partners in bulk. */
final class RegistrationLimit implements Handler<RoutingContext> {
  private final RateLimiter limiter;
  private final int perMinute;

  RegistrationLimit(RateLimiter limiter, int perMinute) {
    this.limiter = limiter;
    this.perMinute = perMinute;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String client = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    limiter.take(ctx.vertx(), "register:" + client, perMinute).onSuccess(quota -> {
      RateLimiter.writeHeaders(quota, ctx.response());
      if (quota.allowed()) {
        ctx.next();
      } else {
        ctx.fail(new HttpProblem(429, "too many registrations from this address; retry later",
            Map.of("Retry-After", Long.toString(quota.retryAfterSeconds()))));
      }
    }).onFailure(ctx::fail);
  }
}
