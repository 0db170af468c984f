package io.keypulse.live;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Short-lived session tokens for the live feed: browsers cannot put an API key in an EventSource or
 * SockJS request, so they trade it for a JWT. HS256 only: a token naming any other algorithm
 * (none included) or signed with another key is refused, and so is an expired one (no leeway).
 */
public final class Sessions {
  /** Who a valid token speaks for, and until when (epoch seconds). */
  public record Session(String partnerId, long apiKeyId, long expiresAt) {}

  private static final String ALGORITHM = "HS256";
  private static final String ISSUER = "keypulse";
  private static final String AUDIENCE = "keypulse-live";

  private final JWTAuth jwt;
  private final int ttlSeconds;

  public Sessions(Vertx vertx, String secret, int ttlSeconds) {
    this.ttlSeconds = ttlSeconds;
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(secret))
        .setJWTOptions(new JWTOptions().setIssuer(ISSUER).addAudience(AUDIENCE).setLeeway(0)));
  }

  /** A new random HS256 key, 256 bits, for a node that has none configured. */
  public static String newSecret() {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  public int ttlSeconds() {
    return ttlSeconds;
  }

  public String issue(String partnerId, long apiKeyId) {
    return jwt.generateToken(new JsonObject().put("key", apiKeyId), new JWTOptions()
        .setAlgorithm(ALGORITHM).setSubject(partnerId).setIssuer(ISSUER).addAudience(AUDIENCE)
        .setExpiresInSeconds(ttlSeconds));
  }

  /** A JWT has three dot-separated parts; API keys have none. */
  public static boolean looksLikeToken(String value) {
    return value.chars().filter(c -> c == '.').count() == 2;
  }

  /** The answer of POST /api/v1/auth/token. */
  public JsonObject grant(String partnerId, long apiKeyId) {
    return new JsonObject().put("success", true).put("token", issue(partnerId, apiKeyId)).put("token_type", "Bearer")
        .put("expires_in", ttlSeconds).put("partner_id", partnerId);
  }

  /**
   * The session a token carries, checked by signature and expiry alone (no database): fails for a
   * missing, malformed, tampered, expired or foreign token. Whether its key is still in force is the
   * caller's to check, through its credential cache.
   */
  public Future<Session> decode(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture("no token");
    }
    return jwt.authenticate(new TokenCredentials(token)).compose(user -> {
      JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
      String partner = claims.getString("sub");
      Long exp = claims.getLong("exp");
      if (partner == null || exp == null || !(claims.getValue("key") instanceof Number key)) {
        return Future.failedFuture("token lacks its claims");
      }
      return Future.succeededFuture(new Session(partner, key.longValue(), exp));
    });
  }
}
