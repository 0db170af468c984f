package io.keypulse.api;

import io.keypulse.bus.Quota;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A per-client-address budget for the doors that come before an API key: registration, the
 * operator API (its own limit, which also slows anyone guessing the operator token), and anonymous
 * traffic (public stats, failed credentials, unknown routes). Counted cluster-wide like the per-key
 * limits; every answer it covers carries its X-RateLimit-* headers.
 */
public final class ClientLimit implements Handler<RoutingContext> {
  private static final int MAX_SPENT = 100_000;

  private final RateLimiter limiter;
  private final String bucket;
  private final int perMinute;
  private final String message;
  /**
   * Addresses whose budget this node saw spent, until the window's reset (epoch seconds): they are
   * refused before any credential look-up, without asking the budget's owner again.
   */
  private final ConcurrentHashMap<String, Quota> spent = new ConcurrentHashMap<>();

  private final long refusalDelayMs;

  /** refusalDelayMs: how long a refusal waits before it is sent (see {@link HttpProblem#delayed}). */
  public ClientLimit(RateLimiter limiter, String bucket, int perMinute, long refusalDelayMs, String message) {
    this.refusalDelayMs = refusalDelayMs;
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
    String client = client(ctx);
    return limiter.take(ctx.vertx(), bucket + ":" + client, perMinute).map(quota -> {
      RateLimiter.writeHeaders(quota, ctx.response());
      if (quota.allowed() && quota.remaining() > 0) {
        return null;
      }
      if (spent.size() >= MAX_SPENT) {
        long now = System.currentTimeMillis() / 1000;
        spent.values().removeIf(q -> q.resetEpochSeconds() <= now);
      }
      spent.put(client, quota);
      return quota.allowed() ? null : refusal(quota);
    });
  }

  /**
   * The 429 (headers written) if this node already saw the client's budget spent in the current
   * window, else null: the check that costs nothing, made before a credential look-up.
   */
  HttpProblem spent(RoutingContext ctx) {
    Quota quota = spent.get(client(ctx));
    if (quota == null) {
      return null;
    }
    long now = System.currentTimeMillis();
    if (quota.resetEpochSeconds() * 1000 <= now) {
      spent.remove(client(ctx));
      return null;
    }
    Quota now429 = new Quota(false, quota.limit(), 0, quota.resetEpochSeconds(),
        Math.max(1, (quota.resetEpochSeconds() * 1000 - now + 999) / 1000));
    RateLimiter.writeHeaders(now429, ctx.response());
    return refusal(now429);
  }

  private HttpProblem refusal(Quota quota) {
    return new HttpProblem(429, message, Map.of("Retry-After", Long.toString(quota.retryAfterSeconds())))
        .delayed(refusalDelayMs);
  }

  private static String client(RoutingContext ctx) {
    return ClientAddress.of(ctx.request().remoteAddress());
  }

  /**
   * Fails the request with {@code problem}, or with the 429 if the client's budget is spent; either
   * is sent after the refusal delay.
   */
  void refuse(RoutingContext ctx, HttpProblem problem) {
    // A bad credential waits like a spent budget: guessing keys, or flooding with them, goes at the
    // pace of the refusals, one per connection per delay.
    charge(ctx).onComplete(charged -> ctx.fail(charged.succeeded() && charged.result() != null ? charged.result()
        : problem.delayMillis() > 0 ? problem : problem.delayed(refusalDelayMs)));
  }
}
