package io.keypulse.live;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.Addresses;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.BridgeClient;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The SockJS event-bus bridge at /eventbus: outbound only, each partner its own addresses")
class LiveBridgeTest extends NodeTest {

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
      Sleep.millis(300);
      assertThat(client.bodies(own)).as("no forged message delivered").isEmpty();
      assertThat(db.count("SELECT count(*) FROM events WHERE partner_id = ?", p.partnerId())).isZero();
    }
  }

  private String token(Partner p) {
    return api.post("/api/v1/auth/token", new JsonObject(), key(p.apiKey())).json().getString("token");
  }
}
