package io.keypulse.partner;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts webhook secrets at rest (AES-256-GCM under the node's master key). They must stay
 * usable for HMAC signing, so unlike API keys they cannot be hashed.
 */
public final class SecretBox {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  public SecretBox(String masterKeyBase64) {
    byte[] raw = Base64.getDecoder().decode(masterKeyBase64.trim());
    if (raw.length != 32) {
      throw new IllegalArgumentException("secrets.master_key must be 32 bytes, base64 encoded");
    }
    this.key = new SecretKeySpec(raw, "AES");
  }

  public static String newMasterKey() {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return Base64.getEncoder().encodeToString(raw);
  }

  public byte[] seal(String secret) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    byte[] sealed = crypt(Cipher.ENCRYPT_MODE, nonce, secret.getBytes(StandardCharsets.UTF_8));
    return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
  }

  public String open(byte[] box) {
    byte[] nonce = java.util.Arrays.copyOfRange(box, 0, NONCE_BYTES);
    byte[] sealed = java.util.Arrays.copyOfRange(box, NONCE_BYTES, box.length);
    return new String(crypt(Cipher.DECRYPT_MODE, nonce, sealed), StandardCharsets.UTF_8);
  }

  private byte[] crypt(int mode, byte[] nonce, byte[] input) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
      return cipher.doFinal(input);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("webhook secret cannot be " + (mode == Cipher.ENCRYPT_MODE ? "sealed" : "opened")
          + " (wrong master key?)", e);
    }
  }
}
