package io.keypulse.api;

import io.keypulse.bus.Quota;
import io.keypulse.config.Config;
import io.keypulse.live.Sessions;
import io.keypulse.partner.Credential;
import io.keypulse.partner.Credentials;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.Optional;

/**
 * API-key authentication and the rate limits, for both dialects: X-API-Key or Authorization:
 * Bearer. Missing or unknown key: 401. Revoked key or suspended partner: 403. A public endpoint
 * still refuses a key that is sent but invalid.
 *
 * <p>Cheap rejection first: a key that is not a known, cached credential is refused with 429 without a
 * look-up when its client address already spent its anonymous budget on bad credentials; else it
 * is looked up (a read, bounded per node; see {@link CredentialCache}), and a failure is charged to
 * that budget. A known key then draws from its own per-minute budget and
 * from its partner's ceiling over all its keys, so that minting keys cannot multiply a plan. Request
 * bodies are read only after this (see {@link ApiVerticle}).
 */
final class Authenticator {
  private static final String SESSION_EXPIRES_AT = "keypulse.session.expires_at";
  private final CredentialCache cache;
  private final RateLimiter limiter;
  private final Config.RateLimit limits;
  private final long refusalDelayMs;
  private final Counter rejected;
  private final ClientLimit anonymous;

  Authenticator(CredentialCache cache, RateLimiter limiter, Config.RateLimit limits, Counter rejected,
                ClientLimit anonymous) {
    this.cache = cache;
    this.limiter = limiter;
    this.limits = limits;
    this.refusalDelayMs = limits.refusalDelayMs();
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
   * Bearer value. Opening a stream with a token draws from the budget of the key that minted it,
   * like any request. A token whose key was since revoked, or whose partner suspended, is 401.
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
      sessions.decode(token).onComplete(decoded -> {
        if (decoded.failed()) {
          anonymous.refuse(ctx, invalidSession());
          return;
        }
        admitSession(ctx, decoded.result())
            .onSuccess(caller -> {
              caller.attach(ctx);
              ctx.put(SESSION_EXPIRES_AT, decoded.result().expiresAt());
              ctx.next();
            })
            .onFailure(ctx::fail);
      });
    };
  }

  /** A decoded session's key, checked now and charged like any request. */
  Future<Caller> admitSession(RoutingContext ctx, Sessions.Session session) {
    return cache.byKeyId(session.apiKeyId()).compose(found -> found.isPresent() && grants(found.get(), session)
        ? admit(ctx, found.get()) : Future.failedFuture(invalidSession()));
  }

  /**
   * Whether a session's key still stands behind it: in force, and a key of the partner the token
   * names (a token for one partner signed over another's key speaks for neither).
   */
  private static boolean grants(Credential key, Sessions.Session session) {
    return barred(key) == null && key.partnerId().equals(session.partnerId());
  }

  /** When the session token a request came in with expires (epoch seconds); null when it came with an API key. */
  static Long sessionExpiresAt(RoutingContext ctx) {
    return ctx.get(SESSION_EXPIRES_AT);
  }

  private static HttpProblem invalidSession() {
    return new HttpProblem(401, "invalid or expired session token: get a new one from POST /api/v1/auth/token");
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
    Optional<Credential> cached = cache.cached(key);
    if (cached.isEmpty()) {
      // An address that spent its budget on bad credentials gets no more look-ups this window.
      HttpProblem spent = anonymous.spent(ctx);
      if (spent != null) {
        ctx.fail(spent);
        return;
      }
    }
    Future<Optional<Credential>> known = cached.isPresent() ? Future.succeededFuture(cached) : cache.lookup(key);
    known.onSuccess(found -> {
      if (found.isEmpty()) {
        anonymous.refuse(ctx, new HttpProblem(401, "invalid API key"));
        return;
      }
      admit(ctx, found.get())
          .onSuccess(caller -> {
            caller.attach(ctx);
            ctx.next();
          })
          .onFailure(ctx::fail);
    }).onFailure(e -> {
      // No look-up free: charged to the address like a bad key, so a flood cannot retry at once.
      if (e instanceof HttpProblem p && p.status() == 503) {
        anonymous.refuse(ctx, p.delayed(refusalDelayMs));
      } else {
        ctx.fail(e);
      }
    });
  }

  private Future<Caller> admit(RoutingContext ctx, Credential c) {
    HttpProblem barred = barred(c);
    if (barred != null) {
      return Future.failedFuture(barred);
    }
    return charge(ctx.vertx(), c).compose(decision -> {
      RateLimiter.writeHeaders(decision.quota(), ctx.response());
      if (decision.refusal() != null) {
        rejected.increment();
        return Future.failedFuture(decision.refusal());
      }
      return Future.succeededFuture(new Caller(c.partnerId(), c.keyId()));
    });
  }

  /**
   * Whether a live-bridge socket may register with this session now: its key in force and a request
   * left in its budgets (a socket counts as one request, as an SSE stream does).
   */
  Future<Boolean> admitBridge(Vertx vertx, Sessions.Session session) {
    return cache.byKeyId(session.apiKeyId()).compose(found -> found.isEmpty() || !grants(found.get(), session)
        ? Future.succeededFuture(false)
        : charge(vertx, found.get()).map(decision -> decision.refusal() == null));
  }

  private static HttpProblem barred(Credential c) {
    if (!c.keyStatus().equals("active")) {
      return new HttpProblem(403, "API key revoked");
    }
    if (!c.partnerStatus().equals("active")) {
      return new HttpProblem(403, "partner account suspended");
    }
    return null;
  }

  /** The budget the caller should see, and the 429 to answer if one of them is spent. */
  private record Decision(Quota quota, HttpProblem refusal) {}

  /** One request from the key's budget, then from its partner's ceiling over all keys. */
  private Future<Decision> charge(Vertx vertx, Credential c) {
    int perKey = c.ratePerMinute() != null ? c.ratePerMinute() : limits.perMin();
    int perPartner = c.partnerPerMinute() != null ? c.partnerPerMinute() : perKey * limits.partnerMultiplier();
    return limiter.take(vertx, "key:" + c.keyId(), perKey).compose(keyQuota -> {
      if (!keyQuota.allowed()) {
        return Future.succeededFuture(new Decision(keyQuota,
            tooMany(keyQuota, "rate limit exceeded: " + perKey + " requests per minute for this key")));
      }
      return limiter.take(vertx, "partner:" + c.partnerId(), perPartner).map(partnerQuota -> partnerQuota.allowed()
          // The tighter of the two budgets is the one the caller needs to see.
          ? new Decision(partnerQuota.remaining() < keyQuota.remaining() ? partnerQuota : keyQuota, null)
          : new Decision(partnerQuota, tooMany(partnerQuota, "rate limit exceeded: " + perPartner
              + " requests per minute over all API keys of this partner")));
    });
  }

  /** Sent after the refusal delay, as every 429 is: a caller past its budget goes at the refusals' pace. */
  private HttpProblem tooMany(Quota quota, String message) {
    return new HttpProblem(429, message, Map.of("Retry-After", Long.toString(quota.retryAfterSeconds())))
        .delayed(refusalDelayMs);
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
