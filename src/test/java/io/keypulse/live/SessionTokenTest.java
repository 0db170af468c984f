package io.keypulse.live;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.Addresses;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.BridgeClient;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.SseClient;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Session tokens: POST /api/v1/auth/token and the tokens the live feed accepts")
class SessionTokenTest extends NodeTest {

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    return Tokens.nodeSettings(pg);
  }

  @Test
  @DisplayName("an API key buys an HS256 token for its partner, valid 15 minutes at most, that opens the stream")
  void issued() {
    Partner p = api.register("Tokens");
    var reply = api.post("/api/v1/auth/token", new JsonObject(), key(p.apiKey()));
    assertThat(reply.status()).isEqualTo(200);
    String token = reply.json().getString("token");
    assertThat(reply.json().getInteger("expires_in")).isBetween(60, 900);
    assertThat(Tokens.header(token).getString("alg")).isEqualTo("HS256");
    JsonObject claims = Tokens.payload(token);
    assertThat(claims.getString("sub")).isEqualTo(p.partnerId());
    assertThat(claims.getLong("exp") - claims.getLong("iat")).isLessThanOrEqualTo(900);
    assertThat(token).doesNotContain(p.apiKey());
    try (SseClient stream = open("?token=" + token)) {
      assertThat(stream.status()).isEqualTo(200);
    }
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream", "Authorization", "Bearer " + token)) {
      assertThat(stream.status()).as("as a Bearer header too").isEqualTo(200);
    }
  }

  @Test
  @DisplayName("no key, a bad key or a revoked key gets no token")
  void refusedWithoutKey() {
    assertThat(api.post("/api/v1/auth/token", new JsonObject()).status()).isEqualTo(401);
    assertThat(api.post("/api/v1/auth/token", new JsonObject(), key("pk_live_" + "z".repeat(40))).status())
        .isEqualTo(401);
    Partner p = api.register("Revoked");
    var extra = api.post("/api/v1/api-keys", new JsonObject().put("name", "second"), key(p.apiKey())).json();
    api.delete("/api/v1/api-keys/" + extra.getLong("id"), key(p.apiKey()));
    assertThat(api.post("/api/v1/auth/token", new JsonObject(), key(extra.getString("api_key"))).status())
        .isEqualTo(403);
  }

  @Test
  @DisplayName("expired, tampered, alg:none, wrong-key and other-algorithm tokens are refused with 401")
  void forgedTokens() {
    Partner p = api.register("Forgery Target");
    String good = api.post("/api/v1/auth/token", new JsonObject(), key(p.apiKey())).json().getString("token");
    String[] parts = good.split("\\.");
    JsonObject otherClaims = Tokens.payload(good).put("sub", "p_00000000");
    String tampered = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(otherClaims.encode().getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    Map<String, String> forged = Map.of(
        "expired", Tokens.hs256(Tokens.claims(p.partnerId(), Tokens.now() - 5), Tokens.SECRET),
        "tampered", tampered,
        "alg none", Tokens.unsecured(Tokens.claims(p.partnerId(), Tokens.now() + 600)),
        "wrong key", Tokens.hs256(Tokens.claims(p.partnerId(), Tokens.now() + 600), "another-secret-0123456789abcdef"),
        "HS512 with the right key", Tokens.signed("HS512", "HmacSHA512", Tokens.claims(p.partnerId(),
            Tokens.now() + 600), Tokens.SECRET),
        "garbage", "not-a-token",
        "truncated", parts[0] + "." + parts[1]);
    forged.forEach((what, token) -> {
      try (SseClient stream = open("?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8))) {
        assertThat(stream.status()).as(what).isEqualTo(401);
        assertThat(new JsonObject(stream.errorBody()).getBoolean("success")).as(what).isFalse();
      }
    });
    String valid = Tokens.hs256(Tokens.claims(p.partnerId(), keyId(p), Tokens.now() + 600), Tokens.SECRET);
    try (SseClient stream = open("?token=" + valid)) {
      assertThat(stream.status()).as("the same claims, correctly signed").isEqualTo(200);
    }
  }

  @Test
  @DisplayName("revoking a key ends the streams and bridge sockets of its partner; the key and its tokens cannot "
      + "reopen them, while the partner's other key can, resuming")
  void revocationEndsSessions() {
    Partner p = api.register("Revoker");
    var second = api.post("/api/v1/api-keys", new JsonObject().put("name", "dashboard"), key(p.apiKey())).json();
    String secondKey = second.getString("api_key");
    String token = api.post("/api/v1/auth/token", new JsonObject(), key(secondKey)).json().getString("token");
    try (SseClient byKey = new SseClient(api.base() + "/api/events/stream", "X-API-Key", secondKey);
         SseClient byToken = open("?token=" + token);
         SseClient other = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey());
         BridgeClient bridge = new BridgeClient(api.base())) {
      bridge.register(Addresses.liveEvents(p.partnerId()), token);
      bridge.settle();
      assertThat(List.of(byKey.status(), byToken.status(), other.status())).containsOnly(200);
      assertThat(bridge.errors()).isEmpty();

      assertThat(api.delete("/api/v1/api-keys/" + second.getLong("id"), key(p.apiKey())).status()).isEqualTo(200);
      assertThat(Sleep.poll(() -> byKey.ended() && byToken.ended() && bridge.closed() ? true : null, 5000))
          .as("streams and socket ended").isTrue();
      assertThat(new SseClient(api.base() + "/api/events/stream", "X-API-Key", secondKey).status()).isEqualTo(403);
      assertThat(open("?token=" + token).status()).isEqualTo(401);
      try (BridgeClient again = new BridgeClient(api.base())) {
        again.register(Addresses.liveEvents(p.partnerId()), token);
        assertThat(again.await(f -> "err".equals(f.getString("type")), 5000)).as("token refused").isNotNull();
      }
      try (SseClient resumed = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey())) {
        assertThat(resumed.status()).as("the partner's other key still works").isEqualTo(200);
      }
    }
  }

  @Test
  @DisplayName("a token whose key belongs to another partner than its subject opens neither a stream nor a socket")
  void keyOfAnotherPartner() {
    Partner owner = api.register("Key Owner");
    Partner subject = api.register("Token Subject");
    String matching = Tokens.hs256(Tokens.claims(owner.partnerId(), keyId(owner), Tokens.now() + 600), Tokens.SECRET);
    try (SseClient stream = open("?token=" + matching)) {
      assertThat(stream.status()).as("subject and key agree").isEqualTo(200);
    }
    String crossed = Tokens.hs256(Tokens.claims(subject.partnerId(), keyId(owner), Tokens.now() + 600), Tokens.SECRET);
    try (SseClient stream = open("?token=" + crossed)) {
      assertThat(stream.status()).as("subject is not the key's partner").isEqualTo(401);
      assertThat(new JsonObject(stream.errorBody()).getBoolean("success")).isFalse();
    }
    String address = Addresses.liveEvents(subject.partnerId());
    try (BridgeClient bridge = new BridgeClient(api.base())) {
      bridge.register(address, crossed);
      assertThat(bridge.await(f -> "err".equals(f.getString("type")), 5000)).as("bridge refuses it").isNotNull();
      api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", "k"),
          key(subject.apiKey()));
      Sleep.millis(500);
      assertThat(bridge.bodies(address)).isEmpty();
    }
  }

  @Test
  @DisplayName("a stream opened with a token ends when the token expires, with a final session_expired event")
  void streamEndsAtExpiry() {
    Partner p = api.register("Expiring");
    long expiresAt = Tokens.now() + 3;
    String token = Tokens.hs256(Tokens.claims(p.partnerId(), keyId(p), expiresAt), Tokens.SECRET);
    try (SseClient byToken = open("?token=" + token);
         SseClient byKey = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey())) {
      assertThat(byToken.status()).isEqualTo(200);
      api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", "before"),
          key(p.apiKey()));
      assertThat(byToken.awaitCount("event", 1, 3000)).as("delivering before expiry").hasSize(1);
      assertThat(Sleep.poll(() -> byToken.ended() ? true : null, 6000)).as("ended after expiry").isTrue();
      assertThat(System.currentTimeMillis()).as("ended at expiry, not before")
          .isGreaterThanOrEqualTo(expiresAt * 1000 - 50).isLessThan(expiresAt * 1000 + 2000);
      List<SseClient.Frame> frames = byToken.frames();
      SseClient.Frame last = frames.get(frames.size() - 1);
      assertThat(last.event()).isEqualTo("session_expired");
      assertThat(last.data().getString("message")).contains("POST /api/v1/auth/token").contains("Last-Event-ID");
      assertThat(last.id()).as("the resume point is still the last event's").isEqualTo(frames.get(0).id());
      assertThat(byKey.ended()).as("a stream opened with an API key has no expiry").isFalse();
    }
  }

  /** The id of the partner's first API key (the one registration gave it). */
  private long keyId(Partner p) {
    return api.get("/api/v1/api-keys", key(p.apiKey())).json().getJsonArray("keys").getJsonObject(0).getLong("id");
  }

  private SseClient open(String query) {
    return new SseClient(api.base() + "/api/events/stream" + query);
  }
}
