package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Signer: X-KeyPulse-Signature and Standard Webhooks' webhook-signature")
class SignerTest {
  /** The example of the Standard Webhooks specification and its libraries' tests. */
  private static final String SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  private static final byte[] SPEC_BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);

  @Test
  @DisplayName("webhook-signature keys HMAC-SHA256 with the base64 decoding of what follows whsec_, over id.timestamp.body")
  void specificationExample() {
    assertThat(Signer.standard(List.of(SPEC_SECRET), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, SPEC_BODY))
        .isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  }

  @Test
  @DisplayName("several secrets give several space-separated v1 entries, the current one first")
  void severalSecrets() {
    String other = "whsec_Zx9QhT2mK7bW4cVn8RpL3sDf6GyJ1aEu";
    String both = Signer.standard(List.of(SPEC_SECRET, other), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, SPEC_BODY);
    assertThat(both).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
        + Signer.standard(List.of(other), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, SPEC_BODY));
  }
}
