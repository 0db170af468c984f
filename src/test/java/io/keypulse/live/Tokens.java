package io.keypulse.live;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Hand-made JWTs for the negative cases: any header, any claims, signed with any key (or none). */
final class Tokens {
  static final String SECRET = "live-test-secret-0123456789abcdef";

  private Tokens() {}

  /** A test node's settings with a known token secret, so tests can forge tokens against it. */
  static Map<String, Object> nodeSettings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "test-" + UUID.randomUUID());
    s.put("live.jwt_secret", SECRET);
    return s;
  }

  static String signed(String alg, String macAlgorithm, JsonObject claims, String secret) {
    String unsigned = part(new JsonObject().put("alg", alg).put("typ", "JWT")) + "." + part(claims);
    try {
      Mac mac = Mac.getInstance(macAlgorithm);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), macAlgorithm));
      return unsigned + "." + b64(mac.doFinal(unsigned.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hs256(JsonObject claims, String secret) {
    return signed("HS256", "HmacSHA256", claims, secret);
  }

  static String unsecured(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  /** Claims as the node writes them, for a partner, expiring at the given epoch second. */
  static JsonObject claims(String partnerId, long expiresAt) {
    return claims(partnerId, 1, expiresAt);
  }

  /** The same, naming the API key the token was minted with. */
  static JsonObject claims(String partnerId, long apiKeyId, long expiresAt) {
    return new JsonObject().put("sub", partnerId).put("key", apiKeyId).put("iss", "keypulse")
        .put("aud", "keypulse-live").put("iat", expiresAt - 600).put("exp", expiresAt);
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static JsonObject payload(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  static JsonObject header(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0]), StandardCharsets.UTF_8));
  }

  private static String part(JsonObject json) {
    return b64(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
