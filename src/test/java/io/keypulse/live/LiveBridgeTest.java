package io.keypulse.live;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.Addresses;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.BridgeClient;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.SockJsClient;
import io.keypulse.testing.SockJsClient.Transport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@DisplayName("The SockJS event-bus bridge at /eventbus: outbound only, each partner its own addresses")
class LiveBridgeTest extends NodeTest {
  /** What the README documents, and every refusal of the bridge sends: {"type":"err","body":"rejected"}. */
  private static final String REFUSAL = "rejected";

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    return Tokens.nodeSettings(pg);
  }

  @Test
  @DisplayName("a client registered with its token receives its partner's events and alerts")
  void ownAddresses() {
    Partner p = api.register("Bridge Own");
    String token = token(p);
    try (BridgeClient client = new BridgeClient(api.base())) {
      client.register(Addresses.liveEvents(p.partnerId()), token);
      client.register(Addresses.liveAlerts(p.partnerId()), token);
      client.settle();
      api.post("/api/events", new JsonObject().put("event_type", "key_deleted").put("key_id", "bridged")
          .put("severity", "critical"), key(p.apiKey()));
      JsonObject events = client.await(f -> !client.bodies(Addresses.liveEvents(p.partnerId())).isEmpty(), 5000);
      assertThat(events).as("events arrive").isNotNull();
      JsonObject event = client.bodies(Addresses.liveEvents(p.partnerId())).get(0).getJsonArray("events")
          .getJsonObject(0);
      assertThat(event.getString("key_id")).isEqualTo("bridged");
      assertThat(client.await(f -> !client.bodies(Addresses.liveAlerts(p.partnerId())).isEmpty(), 5000))
          .as("alerts arrive").isNotNull();
      assertThat(client.bodies(Addresses.liveAlerts(p.partnerId()))).extracting(a -> a.getString("key_id"))
          .contains("bridged");
      assertThat(client.errors()).isEmpty();
    }
  }

  @Test
  @DisplayName("another partner's address, a missing, expired, forged or alg:none token are refused and receive nothing")
  void refusedRegistrations() {
    Partner victim = api.register("Bridge Victim");
    Partner intruder = api.register("Bridge Intruder");
    String victimEvents = Addresses.liveEvents(victim.partnerId());
    Map<String, String> attempts = new LinkedHashMap<>();
    attempts.put("intruder's own valid token", token(intruder));
    attempts.put("no token", null);
    attempts.put("expired", Tokens.hs256(Tokens.claims(victim.partnerId(), Tokens.now() - 5), Tokens.SECRET));
    attempts.put("alg none", Tokens.unsecured(Tokens.claims(victim.partnerId(), Tokens.now() + 600)));
    attempts.put("wrong key", Tokens.hs256(Tokens.claims(victim.partnerId(), Tokens.now() + 600),
        "another-secret-0123456789abcdef"));
    attempts.forEach((what, token) -> {
      try (BridgeClient client = new BridgeClient(api.base())) {
        client.register(victimEvents, token);
        assertThat(client.await(f -> "err".equals(f.getString("type")), 5000)).as(what + ": refused").isNotNull();
        assertThat(client.errors()).extracting(e -> e.getString("body")).as(what + ": refusal text")
            .containsOnly(REFUSAL);
        api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", "secret"),
            key(victim.apiKey()));
        Sleep.millis(500);
        assertThat(client.bodies(victimEvents)).as(what + ": nothing delivered").isEmpty();
      }
    });
  }

  @Test
  @DisplayName("sends and publishes from a client are refused, even to its own address")
  void noInbound() {
    Partner p = api.register("Bridge Inbound");
    String own = Addresses.liveEvents(p.partnerId());
    try (BridgeClient client = new BridgeClient(api.base())) {
      client.register(own, token(p));
      client.settle();
      for (String type : new String[] {"send", "publish"}) {
        client.send(new JsonObject().put("type", type).put("address", own)
            .put("body", new JsonObject().put("events", new io.vertx.core.json.JsonArray().add(
                new JsonObject().put("id", 1).put("key_id", "forged")))));
      }
      client.send(new JsonObject().put("type", "send").put("address", Addresses.STORE_APPEND)
          .put("body", new JsonObject()));
      assertThat(client.await(f -> client.errors().size() >= 3, 5000)).as("three refusals").isNotNull();
      assertThat(client.errors()).extracting(e -> e.getString("body")).containsOnly(REFUSAL);
      Sleep.millis(300);
      assertThat(client.bodies(own)).as("no forged message delivered").isEmpty();
      assertThat(db.count("SELECT count(*) FROM events WHERE partner_id = ?", p.partnerId())).isZero();
    }
  }

  @ParameterizedTest(name = "over {0}")
  @EnumSource(Transport.class)
  @DisplayName("over every SockJS transport a client registers with its token and receives its events and alerts;"
      + " another partner's address is refused with the documented text")
  void everyTransport(Transport transport) {
    Partner p = api.register("Bridge " + transport);
    Partner other = api.register("Bridge Other " + transport);
    String events = Addresses.liveEvents(p.partnerId());
    String alerts = Addresses.liveAlerts(p.partnerId());
    String token = token(p);
    try (SockJsClient client = new SockJsClient(api.base(), transport)) {
      List<Integer> sends = List.of(client.register(events, token), client.register(alerts, token),
          client.register(Addresses.liveEvents(other.partnerId()), token));
      assertThat(sends).as("every send accepted (0: a WebSocket frame has no status)").allMatch(s -> s == 0
          || s == 200 || s == 204);
      assertThat(client.await(f -> "err".equals(f.getString("type")), 5000)).as("refusal arrives").isNotNull();
      String keyId = "bridged-" + transport.name().toLowerCase();
      // A registration is confirmed by nothing in the protocol: events are sent until the first arrives.
      for (int i = 0; i < 20 && client.bodies(events).isEmpty(); i++) {
        api.post("/api/events", new JsonObject().put("event_type", "key_deleted").put("key_id", keyId)
            .put("severity", "critical"), key(p.apiKey()));
        client.await(f -> !client.bodies(events).isEmpty(), 500);
      }
      assertThat(client.bodies(events)).as("events arrive").isNotEmpty();
      assertThat(client.bodies(events).get(0).getJsonArray("events").getJsonObject(0).getString("key_id"))
          .isEqualTo(keyId);
      assertThat(client.await(f -> !client.bodies(alerts).isEmpty(), 5000)).as("alerts arrive").isNotNull();
      assertThat(client.bodies(alerts)).extracting(a -> a.getString("key_id")).contains(keyId);
      assertThat(client.errors()).extracting(e -> e.getString("body")).containsExactly(REFUSAL);
      assertThat(client.bodies(Addresses.liveEvents(other.partnerId()))).isEmpty();
    }
  }

  @Test
  @DisplayName("a fallback send is bounded: too large is 413 before it is read, to no session 404, malformed 400;"
      + " never a 500")
  void fallbackSendBounds() {
    try (SockJsClient client = new SockJsClient(api.base(), Transport.XHR_POLLING)) {
      String huge = new JsonArray().add("x".repeat(70_000)).encode();
      Reply tooLarge = send(client.path() + "/xhr_send", "text/plain", huge);
      assertThat(tooLarge.status()).as(tooLarge.toString()).isEqualTo(413);
      assertThat(tooLarge.json().getBoolean("success")).isFalse();
      Reply jsonpTooLarge = send(client.path() + "/jsonp_send", "application/x-www-form-urlencoded", "d=" + huge);
      assertThat(jsonpTooLarge.status()).as(jsonpTooLarge.toString()).isEqualTo(413);
      Reply empty = send(client.path() + "/xhr_send", "text/plain", "");
      assertThat(empty.status()).as(empty.toString()).isEqualTo(400);
      Reply broken = send(client.path() + "/xhr_send", "text/plain", "[\"unterminated");
      assertThat(broken.status()).as(broken.toString()).isEqualTo(400);
      Reply wrongType = send(client.path() + "/jsonp_send", "application/json", "d=[]");
      assertThat(wrongType.status()).as(wrongType.toString()).isNotEqualTo(500).isBetween(400, 499);
    }
    Reply noSession = send("/eventbus/000/nosuchsession/xhr_send", "text/plain", "[\"{}\"]");
    assertThat(noSession.status()).as(noSession.toString()).isEqualTo(404);
  }

  @Test
  @DisplayName("the iframe transports' page loads SockJS from this node, not from a CDN a partner's network may block")
  void iframePage() {
    Reply page = api.get("/eventbus/iframe.html");
    assertThat(page.status()).isEqualTo(200);
    String script = page.raw().replaceAll("(?s).*<script src=\"([^\"]+)\".*", "$1");
    assertThat(script).startsWith("/webjars/sockjs-client/");
    assertThat(api.get(script).status()).as(script).isEqualTo(200);
  }

  private Reply send(String path, String contentType, String body) {
    return api.send("POST", path, contentType, body.getBytes(StandardCharsets.UTF_8));
  }

  private String token(Partner p) {
    return api.post("/api/v1/auth/token", new JsonObject(), key(p.apiKey())).json().getString("token");
  }
}
