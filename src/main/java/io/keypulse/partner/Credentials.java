package io.keypulse.partner;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Mints partner ids, API keys and webhook secrets; hashes keys for storage. */
public final class Credentials {
  public static final String PARTNER_KEY_PREFIX = "pk_live_";
  public static final String OPERATOR_KEY_PREFIX = "kp_live_";
  private static final String SECRET_PREFIX = "whsec_";
  private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Credentials() {}

  public static String newApiKey(String prefix) {
    return prefix + base62(40);
  }

  /**
   * whsec_ + 32 base62 characters, the documented format (SPEC, conformance kit). Base62 is a subset
   * of base64, so the text after the prefix also decodes into the 24-byte key Standard Webhooks'
   * libraries sign with (about 190 bits of it random).
   */
  public static String newWebhookSecret() {
    return SECRET_PREFIX + base62(32);
  }

  public static String newPartnerId() {
    byte[] raw = new byte[4];
    RANDOM.nextBytes(raw);
    return "p_" + HexFormat.of().formatHex(raw);
  }

  /** Shape check before any lookup: a malformed key costs no database round trip. */
  public static boolean wellFormed(String apiKey) {
    if (apiKey == null || apiKey.length() != 48
        || !(apiKey.startsWith(PARTNER_KEY_PREFIX) || apiKey.startsWith(OPERATOR_KEY_PREFIX))) {
      return false;
    }
    for (int i = 8; i < 48; i++) {
      if (BASE62.indexOf(apiKey.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Keys carry 238 bits of entropy, so one SHA-256 is enough (no slow KDF needed). Every request
   * hashes its key: one digest per thread, as MessageDigest.getInstance's provider look-up costs
   * more than hashing 48 bytes.
   */
  public static byte[] hash(String apiKey) {
    return SHA256.get().digest(apiKey.getBytes(StandardCharsets.UTF_8));
  }

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  });

  /** What a listing may show of a key. */
  public static String prefixOf(String apiKey) {
    return apiKey.substring(0, 12);
  }

  private static String base62(int length) {
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(BASE62.charAt(RANDOM.nextInt(BASE62.length())));
    }
    return out.toString();
  }
}
