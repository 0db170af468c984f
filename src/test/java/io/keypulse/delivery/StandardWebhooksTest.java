package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.partner.SecretBox;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeReceiver;
import io.keypulse.testing.ReadmeJava;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Standard Webhooks (standardwebhooks.com): every delivery verified by a receiver built on the
 * official npm library, as a partner would write it, beside the X-KeyPulse-* headers.
 */
@DisplayName("Standard Webhooks: the official library verifies every delivery, through retries and rotation, and refuses replays")
class StandardWebhooksTest extends WebhookNodeTest {
  private static final int OVERLAP_SECONDS = 6;
  private static final String ONE_SIGNATURE = "v1,[A-Za-z0-9+/]{43}=";

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("retry_delays_ms", "300,600,1200", "poll_ms", 200, "secret_overlap_seconds", OVERLAP_SECONDS);
  }

  @Test
  @DisplayName("every payload kind verifies with the standardwebhooks library; webhook-id is the delivery id")
  void everyPayloadKindVerifies() throws Exception {
    Partner p = api.register("Standard");
    assertThat(p.webhookSecret()).as("whsec_ + 32 base62 characters, valid base64 of 24 bytes").matches("whsec_[A-Za-z0-9]{32}");
    try (NodeReceiver node = NodeReceiver.standardWebhooks(p.webhookSecret())) {
      api.put("/api/v1/partners/webhook", new JsonObject().put("url", node.url("/partner")), key(p.apiKey()));
      createRule(p, "*", node.url("/rule"));
      api.post("/api/v1/thresholds", new JsonObject().put("name", "one_signature").put("event_type", "signing_operation")
          .put("key_id", "capped").put("threshold", 1).put("window", "24h"), key(p.apiKey()));
      ingest(p, new JsonObject().put("event_type", "key_rotated").put("key_id", "ünïcode-key")
          .put("data", new JsonObject().put("note", "süß ✓ 🔑 \"quoted\"").put("ratio", 0.1)));
      ingest(p, new JsonObject().put("event_type", "policy_violation").put("key_id", "wallet"));
      ingest(p, new JsonObject().put("event_type", "signing_operation").put("key_id", "capped"));
      ingest(p, new JsonObject().put("event_type", "key_created").put("key_id", "forgotten")
          .put("occurred_at", Instant.now().minus(97, ChronoUnit.DAYS).toString()));
      assertThat(api.post("/api/v1/webhooks/test", null, key(p.apiKey())).json().getJsonObject("delivery")
          .getString("status")).isEqualTo("delivered");

      for (String kind : List.of("rule_match", "anomaly_detected", "threshold_breach", "rotation_overdue", "test")) {
        List<JsonObject> got = node.await(r -> kind.equals(r.getString("event")), 1, 15_000);
        assertThat(got).as("a %s webhook", kind).isNotEmpty();
        for (JsonObject report : got) {
          assertThat(report.getJsonArray("verdicts").getList()).as("%s: the library's verdict", kind).containsExactly((Object) null);
          assertThat(report.getInteger("status")).isEqualTo(200);
          assertThat(report.getString("id")).as("webhook-id").isEqualTo(report.getString("delivery"));
          assertThat(report.getString("signature")).matches(ONE_SIGNATURE);
          assertThat(Long.parseLong(report.getString("timestamp")))
              .isBetween(Instant.now().getEpochSecond() - 60, Instant.now().getEpochSecond());
        }
      }
    }
  }

  @Test
  @DisplayName("a retried delivery keeps its webhook-id and is signed afresh; both attempts verify")
  void retriesKeepTheId() throws Exception {
    Partner p = api.register("Standard Retries");
    try (NodeReceiver node = NodeReceiver.standardWebhooks(p.webhookSecret())) {
      createRule(p, "key_deleted", node.url("/flaky"));
      ingest(p, new JsonObject().put("event_type", "key_deleted").put("key_id", "k1"));
      List<JsonObject> attempts = node.await(r -> "/flaky".equals(r.getString("path")), 2, 10_000);
      assertThat(attempts).hasSize(2);
      assertThat(attempts.get(0).getInteger("status")).as("the receiver's scripted 500").isEqualTo(500);
      assertThat(attempts.get(1).getInteger("status")).isEqualTo(200);
      assertThat(attempts.get(1).getString("id")).isEqualTo(attempts.get(0).getString("id"))
          .isEqualTo(attempts.get(1).getString("delivery"));
      attempts.forEach(a -> assertThat(a.getJsonArray("verdicts").getList()).containsExactly((Object) null));
    }
  }

  @Test
  @DisplayName("after rotation both secrets sign until the overlap ends, then only the new one")
  void rotationOverlap() throws Exception {
    Partner p = api.register("Standard Rotation");
    String old = p.webhookSecret();
    Reply rotated = api.post("/api/v1/partners/webhook-secret/rotate", null, key(p.apiKey()));
    long rotatedAt = System.currentTimeMillis();
    String fresh = rotated.json().getString("webhook_secret");
    assertThat(fresh).matches("whsec_[A-Za-z0-9]{32}").isNotEqualTo(old);
    try (NodeReceiver node = NodeReceiver.standardWebhooks(old, fresh)) {
      assertThat(testSend(p, node.url("/overlap"))).isEqualTo("delivered");
      JsonObject during = node.await(r -> "/overlap".equals(r.getString("path")), 1, 5000).get(0);
      assertThat(System.currentTimeMillis() - rotatedAt).as("still inside the overlap")
          .isLessThan(OVERLAP_SECONDS * 1000L);
      assertThat(during.getString("signature")).matches(ONE_SIGNATURE + " " + ONE_SIGNATURE);
      assertThat(during.getJsonArray("verdicts").getList()).as("old and new secret both verify")
          .containsExactly(null, null);

      Sleep.millis(OVERLAP_SECONDS * 1000L - (System.currentTimeMillis() - rotatedAt) + 500);
      assertThat(testSend(p, node.url("/after"))).isEqualTo("delivered");
      JsonObject after = node.await(r -> "/after".equals(r.getString("path")), 1, 5000).get(0);
      assertThat(after.getString("signature")).matches(ONE_SIGNATURE);
      assertThat(after.getJsonArray("verdicts").getString(0)).as("the old secret no longer verifies").isNotNull();
      assertThat(after.getJsonArray("verdicts").getValue(1)).as("the new one does").isNull();
    }
  }

  @Test
  @DisplayName("a captured delivery replayed later is refused, and so is one whose timestamp was changed")
  void replayRefused() throws Exception {
    Partner p = api.register("Standard Replay");
    assertThat(testSend(p, receiver.url("/captured"))).isEqualTo("delivered");
    Receiver.Hit captured = receiver.await("/captured", h -> true, 1, 5000).get(0);
    try (NodeReceiver node = NodeReceiver.standardWebhooks(p.webhookSecret())) {
      String timestamp = captured.header("webhook-timestamp");
      assertThat(resend(node.url("/replay-now"), captured, timestamp, 0)).as("moments later: genuine").isEqualTo(200);
      assertThat(resend(node.url("/replay-late"), captured, timestamp, 600)).as("10 minutes later").isEqualTo(401);
      String refreshed = Long.toString(Instant.now().getEpochSecond() + 600);
      assertThat(resend(node.url("/replay-refreshed"), captured, refreshed, 600)).as("timestamp moved forward")
          .isEqualTo(401);
      assertThat(node.await(r -> "/replay-late".equals(r.getString("path")), 1, 5000).get(0)
          .getJsonArray("verdicts").getString(0)).isEqualTo("Message timestamp too old");
      assertThat(node.await(r -> "/replay-refreshed".equals(r.getString("path")), 1, 5000).get(0)
          .getJsonArray("verdicts").getString(0)).isEqualTo("No matching signature found");
    }
  }

  @Test
  @DisplayName("a secret minted before Standard Webhooks (whsec_ + 32 base62) is base64 too: the library verifies it")
  void earlierSecretsVerify() throws Exception {
    Partner p = api.register("Standard Legacy");
    String legacy = "whsec_" + "Zx9QhT2mK7bW4cVn8RpL3sDf6GyJ1aEu";
    byte[] sealed = new SecretBox(TestNode.MASTER_KEY).seal(legacy);
    try (Connection c = db.connect();
         PreparedStatement s = c.prepareStatement("UPDATE partners SET webhook_secret_enc = ? WHERE id = ?")) {
      s.setBytes(1, sealed);
      s.setString(2, p.partnerId());
      assertThat(s.executeUpdate()).isEqualTo(1);
    }
    try (NodeReceiver node = NodeReceiver.standardWebhooks(legacy)) {
      assertThat(testSend(p, node.url("/legacy"))).isEqualTo("delivered");
      JsonObject report = node.await(r -> "/legacy".equals(r.getString("path")), 1, 5000).get(0);
      assertThat(report.getJsonArray("verdicts").getList()).containsExactly((Object) null);
    }
  }

  @Test
  @DisplayName("the README's Java receiver accepts a delivery, with either secret during the overlap, and refuses replays")
  void readmeJavaReceiver() throws Exception {
    Class<?> example = ReadmeJava.load("StandardWebhook");
    Method signingKey = example.getDeclaredMethod("signingKey", String.class);
    Method verify = example.getDeclaredMethod("verify", byte[].class, String.class, String.class, String.class,
        byte[].class);
    signingKey.setAccessible(true);
    verify.setAccessible(true);
    Partner p = api.register("Standard Readme");
    String fresh = api.post("/api/v1/partners/webhook-secret/rotate", null, key(p.apiKey())).json()
        .getString("webhook_secret");
    assertThat(testSend(p, receiver.url("/readme-java"))).isEqualTo("delivered");
    Receiver.Hit hit = receiver.await("/readme-java", h -> true, 1, 5000).get(0);
    byte[] freshKey = (byte[]) signingKey.invoke(null, fresh);
    byte[] oldKey = (byte[]) signingKey.invoke(null, p.webhookSecret());
    String id = hit.header("webhook-id");
    String timestamp = hit.header("webhook-timestamp");
    String signature = hit.header("webhook-signature");

    assertThat(verify.invoke(null, freshKey, id, timestamp, signature, hit.body())).isEqualTo(true);
    assertThat(verify.invoke(null, oldKey, id, timestamp, signature, hit.body())).as("the replaced secret, in the overlap")
        .isEqualTo(true);
    assertThat(verify.invoke(null, freshKey, id, timestamp, signature, "{}".getBytes(StandardCharsets.UTF_8)))
        .as("another body").isEqualTo(false);
    assertThat(verify.invoke(null, freshKey, id, Long.toString(Long.parseLong(timestamp) + 1), signature, hit.body()))
        .as("timestamp changed").isEqualTo(false);
    long tenMinutesAgo = Instant.now().getEpochSecond() - 600;
    assertThat(verify.invoke(null, freshKey, id, Long.toString(tenMinutesAgo),
        Signer.standard(List.of(fresh), id, tenMinutesAgo, hit.body()), hit.body()))
        .as("signed right, but 10 minutes old: a replay").isEqualTo(false);
  }

  private String testSend(Partner p, String url) {
    Reply r = api.post("/api/v1/webhooks/test", new JsonObject().put("url", url), key(p.apiKey()));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getJsonObject("delivery").getString("status");
  }

  /** Sends a captured delivery again, as an attacker who recorded it would; the receiver's clock runs later by offset. */
  private static int resend(String url, Receiver.Hit hit, String timestamp, int clockOffsetSeconds) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json")
        .header("webhook-id", hit.header("webhook-id"))
        .header("webhook-timestamp", timestamp)
        .header("webhook-signature", hit.header("webhook-signature"))
        .header("x-test-clock-offset-seconds", Integer.toString(clockOffsetSeconds))
        .POST(HttpRequest.BodyPublishers.ofByteArray(hit.body())).build();
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private void createRule(Partner p, String match, String url) {
    Reply r = api.post("/api/v1/rules", new JsonObject().put("name", "Standard " + match).put("event_type_match", match)
        .put("webhook_url", url).put("severity", "warning"), key(p.apiKey()));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  private void ingest(Partner p, JsonObject event) {
    Reply r = api.post("/api/v1/events/ingest", event, key(p.apiKey()));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
  }
}
