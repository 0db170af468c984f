package io.keypulse.delivery;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.StringJoiner;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The two signatures every webhook carries. X-KeyPulse-Signature: hex HMAC-SHA256 of the exact body
 * bytes, keyed with the text of the partner's webhook secret (the first product document's
 * scheme). webhook-signature (Standard Webhooks): base64 HMAC-SHA256 of "id.timestamp.body", keyed
 * with the base64 decoding of what follows whsec_, as the specification's libraries read a secret.
 */
public final class Signer {
  private static final String SECRET_PREFIX = "whsec_";

  private Signer() {}

  public static String sign(String secret, byte[] body) {
    return HexFormat.of().formatHex(hmac(secret.getBytes(StandardCharsets.UTF_8), body));
  }

  /**
   * The webhook-signature header: one "v1,<base64>" per secret, space-separated (during a
   * rotation's overlap the new and the previous secret both sign, current first).
   */
  public static String standard(List<String> secrets, String id, long timestamp, byte[] body) {
    byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
    byte[] content = new byte[prefix.length + body.length];
    System.arraycopy(prefix, 0, content, 0, prefix.length);
    System.arraycopy(body, 0, content, prefix.length, body.length);
    StringJoiner header = new StringJoiner(" ");
    for (String secret : secrets) {
      header.add("v1," + Base64.getEncoder().encodeToString(hmac(standardKey(secret), content)));
    }
    return header.toString();
  }

  /**
   * Every secret KeyPulse mints is whsec_ + 32 base62 characters, which are base64 too and decode
   * to 24 bytes. So the specification's rule applies to all of them and partners' secrets did not
   * change.
   */
  private static byte[] standardKey(String secret) {
    String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
    try {
      return Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      // Not a target problem (those are IllegalArgumentExceptions too): a secret that cannot sign.
      throw new IllegalStateException("webhook secret is not whsec_ + base64", e);
    }
  }

  /**
   * One Mac per thread, keyed anew for each signature: finding the provider (Mac.getInstance and its
   * first init) cost more than the hashing, over half of the signing time in a webhook profile.
   */
  private static final ThreadLocal<Mac> HMAC_SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  });

  private static byte[] hmac(byte[] key, byte[] content) {
    Mac mac = HMAC_SHA256.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return mac.doFinal(content);
  }
}
