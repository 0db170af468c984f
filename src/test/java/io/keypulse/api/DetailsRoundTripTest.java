package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.RawSse;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.WebhookNodeTest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Numbers in details come back as the partner wrote them")
class DetailsRoundTripTest extends WebhookNodeTest {
  /** Numbers JSON allows in more than one spelling, each spelled a way a Double would not write back. */
  private static final String DETAILS = "{\"amount\":1e3,\"fee\":1.50,\"rate\":2.5E-3,\"tiny\":1.0e-7,\"neg\":-0.0,"
      + "\"zero\":-0,\"wei\":123456789012345678901234567890,\"exact\":0.1,\"nested\":{\"list\":[1.0,2e0,3,-1E+2]}}";
  /**
   * The same in a webhook's metadata: spelled as JSON.stringify spells them (SPEC §6: a receiver that
   * re-serialises the parsed body computes the same HMAC), the wei amount exact.
   */
  private static final String AS_JAVASCRIPT = "{\"amount\":1000,\"fee\":1.5,\"rate\":0.0025,\"tiny\":1e-7,\"neg\":0,"
      + "\"zero\":0,\"wei\":123456789012345678901234567890,\"exact\":0.1,\"nested\":{\"list\":[1,2,3,-100]}}";

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of();
  }

  @Test
  @DisplayName("{\"amount\":1e3} and friends: both dialects, queries, live and resume; rule webhooks as JavaScript writes them")
  void detailsRoundTrip() {
    Partner p = api.register("Exact Details");
    ruleForEveryEvent(p, "/numbers");
    try (RawSse live = new RawSse(api.base() + "/api/events/stream", p.apiKey())) {
      Reply reference = api.post("/api/events", "{\"key_id\":\"ref\",\"event_type\":\"key_access\",\"severity\":"
          + "\"nominal\",\"details\":" + DETAILS + "}", key(p.apiKey()));
      assertThat(reference.status()).isEqualTo(201);
      assertThat(reference.raw()).contains("\"details\":" + DETAILS);
      assertThat(api.post("/api/v1/events/ingest", "{\"event_type\":\"key_accessed\",\"key_id\":\"partner\",\"data\":"
          + DETAILS + "}", key(p.apiKey())).status()).isEqualTo(202);
      assertThat(api.post("/api/v1/events/ingest", "{\"data\":[{\"event_type\":\"key_accessed\",\"key_id\":\"batch\","
          + "\"data\":" + DETAILS + "}]}", key(p.apiKey())).status()).isEqualTo(202);

      for (String keyId : List.of("ref", "partner", "batch")) {
        Reply stored = api.get("/api/events?key_id=" + keyId, key(p.apiKey()));
        assertThat(stored.raw()).as("GET /api/events for %s", keyId).contains("\"details\":" + DETAILS);
        Receiver.Hit hit = receiver.await("/numbers", h -> h.text().contains("\"key_id\":\"" + keyId + "\""), 1, 10_000)
            .get(0);
        assertThat(hit.text()).as("rule webhook for %s", keyId).contains("\"metadata\":" + AS_JAVASCRIPT);
        assertThat(hit.header("X-KeyPulse-Signature")).isEqualTo(hmac(p.webhookSecret(), hit.body()));
      }
      assertThat(live.await(text -> count(text, "\"details\":" + DETAILS) >= 3, 10_000))
          .as("the live feed: %s", live.text()).isTrue();
    }
    try (RawSse resumed = new RawSse(api.base() + "/api/events/stream?since_id=0", p.apiKey())) {
      assertThat(resumed.await(text -> count(text, "\"details\":" + DETAILS) >= 3, 10_000))
          .as("a stream resumed from the database: %s", resumed.text()).isTrue();
    }
  }

  @Test
  @DisplayName("a number too large for a double is still refused (400), as before")
  void outOfRange() {
    Partner p = api.register("Huge Numbers");
    Reply r = api.post("/api/v1/events/ingest", "{\"event_type\":\"key_accessed\",\"key_id\":\"k\",\"data\":"
        + "{\"x\":1e999}}", key(p.apiKey()));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("message")).contains("data.x");
  }

  private static String hmac(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      n++;
    }
    return n;
  }
}
