package io.keypulse.api;

import io.keypulse.db.PgFailures;
import io.keypulse.live.Sessions;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Credential;
import io.keypulse.partner.Credentials;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.Optional;

/**
 * API-key authentication and the per-key rate limit, for both dialects: X-API-Key or
 * Authorization: Bearer. Missing or unknown key: 401. Revoked key or suspended partner: 403.
 * A public endpoint still refuses a key that is sent but invalid.
 */
final class Authenticator {
  private final ApiKeys apiKeys;
  private final CredentialCache cache;
  private final RateLimiter limiter;
  private final int defaultPerMinute;
  private final Counter rejected;
  private final ClientLimit anonymous;

  Authenticator(ApiKeys apiKeys, CredentialCache cache, RateLimiter limiter, int defaultPerMinute, Counter rejected,
                ClientLimit anonymous) {
    this.apiKeys = apiKeys;
    this.cache = cache;
    this.limiter = limiter;
    this.defaultPerMinute = defaultPerMinute;
    this.rejected = rejected;
    this.anonymous = anonymous;
  }

  Handler<RoutingContext> required() {
    return ctx -> authenticate(ctx, false);
  }

  Handler<RoutingContext> optional() {
    return ctx -> authenticate(ctx, true);
  }

  /**
   * The live feed's door: an API key as everywhere else, or a session token from
   * POST /api/v1/auth/token, as ?token= (browsers cannot set headers on EventSource) or as the
   * Bearer value. A session token is not rate limited per request: minting one is.
   */
  Handler<RoutingContext> keyOrSession(Sessions sessions) {
    return ctx -> {
      String token = ctx.request().getParam("token");
      String presented = presentedKey(ctx.request());
      if (token == null && presented != null && Sessions.looksLikeToken(presented)) {
        token = presented;
      }
      if (token == null) {
        authenticate(ctx, false);
        return;
      }
      sessions.verify(token)
          .onSuccess(session -> {
            new Caller(session.partnerId(), session.apiKeyId()).attach(ctx);
            ctx.next();
          })
          .onFailure(e -> ctx.fail(PgFailures.unavailable(e) ? HttpProblem.unavailable("database unavailable")
              : new HttpProblem(401, "invalid or expired session token: get a new one from POST /api/v1/auth/token")));
    };
  }

  private void authenticate(RoutingContext ctx, boolean optional) {
    String key = presentedKey(ctx.request());
    if (key == null && optional) {
      anonymous.handle(ctx);
      return;
    }
    if (key == null) {
      anonymous.refuse(ctx, new HttpProblem(401, "missing API key: send X-API-Key or Authorization: Bearer <key>"));
      return;
    }
    if (!Credentials.wellFormed(key)) {
      anonymous.refuse(ctx, new HttpProblem(401, "invalid API key"));
      return;
    }
    cache.lookup(key, apiKeys)
        .compose(found -> admit(ctx, found))
        .onSuccess(caller -> {
          caller.attach(ctx);
          ctx.next();
        })
        .onFailure(e -> {
          if (e instanceof HttpProblem p && p.status() == 401) {
            anonymous.refuse(ctx, p);
          } else {
            ctx.fail(e);
          }
        });
  }

  private Future<Caller> admit(RoutingContext ctx, Optional<Credential> found) {
    if (found.isEmpty()) {
      return Future.failedFuture(new HttpProblem(401, "invalid API key"));
    }
    Credential c = found.get();
    if (!c.keyStatus().equals("active")) {
      return Future.failedFuture(new HttpProblem(403, "API key revoked"));
    }
    if (!c.partnerStatus().equals("active")) {
      return Future.failedFuture(new HttpProblem(403, "partner account suspended"));
    }
    int perMinute = c.ratePerMinute() != null ? c.ratePerMinute() : defaultPerMinute;
    return limiter.take(ctx.vertx(), "key:" + c.keyId(), perMinute).compose(quota -> {
      RateLimiter.writeHeaders(quota, ctx.response());
      if (quota.allowed()) {
        return Future.succeededFuture(new Caller(c.partnerId(), c.keyId()));
      }
      rejected.increment();
      return Future.failedFuture(new HttpProblem(429,
          "rate limit exceeded: " + quota.limit() + " requests per minute for this key", Map.of(
              "Retry-After", Long.toString(quota.retryAfterSeconds()))));
    });
  }

  /** X-API-Key wins; otherwise "Authorization: Bearer <key>". */
  static String presentedKey(HttpServerRequest request) {
    String header = request.getHeader("X-API-Key");
    if (header != null && !header.isBlank()) {
      return header.trim();
    }
    String authorization = request.getHeader("Authorization");
    if (authorization == null || authorization.isBlank()) {
      return null;
    }
    String[] parts = authorization.trim().split("\\s+", 2);
    return parts.length == 2 && parts[0].equalsIgnoreCase("Bearer") ? parts[1] : authorization.trim();
  }
}
