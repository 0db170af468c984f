package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.PartnerSettingsChanged;
import io.keypulse.config.ConfigLoader;
import io.keypulse.detect.Exemption;
import io.keypulse.detect.PartnerSettings;
import io.keypulse.detect.PartnerSettingsStore;
import io.keypulse.detect.Policy;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Partner exceptions through the API")
class ExemptionApiTest extends NodeTest {

  @Test
  @DisplayName("an exception is created with its range normalised, listed newest first, read, and deleted for good")
  void lifecycle() {
    Partner p = api.register("Mute");
    Instant expiry = Instant.now().plus(7, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
    Reply created = create(p, new JsonObject().put("rule", "new_source_ip").put("key_prefix", "hot-")
        .put("source_ip_cidr", "10.1.2.3/16").put("actor", "ops").put("expires_at", expiry.toString())
        .put("reason", "office NAT"));
    assertThat(created.status()).as(created.raw()).isEqualTo(201);
    JsonObject e = created.json().getJsonObject("exception");
    assertThat(e.fieldNames()).containsExactly("id", "rule", "key_id", "key_prefix", "source_ip_cidr", "actor",
        "expires_at", "reason", "matched", "last_matched_at", "created_at");
    assertThat(e.getString("source_ip_cidr")).isEqualTo("10.1.0.0/16");
    assertThat(e.getString("expires_at")).isEqualTo(expiry.toString().replace("Z", ".000Z"));
    assertThat(e.getValue("key_id")).isNull();
    assertThat(e.getLong("matched")).isZero();
    assertThat(e.getValue("last_matched_at")).isNull();
    assertThat(Instant.parse(e.getString("created_at"))).isCloseTo(Instant.now(), within(60, ChronoUnit.SECONDS));
    long id = e.getLong("id");
    assertThat(db.count("SELECT count(*) FROM exemptions WHERE id = ? AND partner_id = ? AND source_ip_cidr = "
        + "'10.1.0.0/16' AND active", id, p.partnerId())).isEqualTo(1);

    JsonObject v6 = create(p, new JsonObject().put("rule", "critical_event").put("key_id", "vault")
        .put("source_ip_cidr", "2001:DB8:0:0:1::7/64").put("reason", "drills")).json().getJsonObject("exception");
    assertThat(v6.getString("source_ip_cidr")).isEqualTo("2001:db8::/64");
    assertThat(v6.getValue("expires_at")).isNull();

    Reply list = api.get("/api/v1/exceptions", key(p.apiKey()));
    assertThat(list.json().getInteger("count")).isEqualTo(2);
    assertThat(ids(list.array("exceptions"))).containsExactly(v6.getLong("id"), id);
    assertThat(api.get("/api/v1/exceptions/" + id, key(p.apiKey())).json().getJsonObject("exception")).isEqualTo(e);

    Reply deleted = api.delete("/api/v1/exceptions/" + id, key(p.apiKey()));
    assertThat(deleted.json()).isEqualTo(new JsonObject().put("success", true).put("deactivated", id));
    Reply gone = api.get("/api/v1/exceptions/" + id, key(p.apiKey()));
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.json().getString("message")).isEqualTo("no exception " + id);
    assertThat(api.delete("/api/v1/exceptions/" + id, key(p.apiKey())).status()).isEqualTo(404);
    assertThat(ids(api.get("/api/v1/exceptions", key(p.apiKey())).array("exceptions"))).containsExactly(v6.getLong("id"));
    assertThat(db.count("SELECT count(*) FROM exemptions WHERE id = ? AND NOT active", id)).as("kept, inactive")
        .isEqualTo(1);
    assertThat(api.get("/api/v1/exceptions/abc", key(p.apiKey())).status()).isEqualTo(404);
  }

  @Test
  @DisplayName("a rule may be a detector or one of the partner's thresholds, not another partner's")
  void thresholdRules() {
    Partner p = api.register("Caps");
    Partner other = api.register("Other Caps");
    assertThat(api.post("/api/v1/thresholds", new JsonObject().put("name", "nightly_cap").put("event_type", "export")
        .put("threshold", 5).put("window", "24h"), key(p.apiKey())).status()).isEqualTo(201);
    JsonObject mute = new JsonObject().put("rule", "nightly_cap").put("key_id", "k1").put("reason", "backup window");
    assertThat(create(p, mute).status()).isEqualTo(201);
    Reply refused = create(other, mute);
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.json().getString("message")).contains("signing_volume_spike", "rotation_overdue",
        "nightly_cap is neither");
  }

  @Test
  @DisplayName("one partner can neither list, read nor delete another's exceptions")
  void isolation() {
    Partner a = api.register("Tenant A");
    Partner b = api.register("Tenant B");
    long id = create(a, new JsonObject().put("rule", "new_actor").put("actor", "ci-bot").put("reason", "CI"))
        .json().getJsonObject("exception").getLong("id");
    assertThat(api.get("/api/v1/exceptions", key(b.apiKey())).json().getInteger("count")).isZero();
    Reply read = api.get("/api/v1/exceptions/" + id, key(b.apiKey()));
    assertThat(read.status()).isEqualTo(404);
    assertThat(read.json().getString("message")).isEqualTo("no exception " + id);
    assertThat(api.delete("/api/v1/exceptions/" + id, key(b.apiKey())).status()).isEqualTo(404);
    assertThat(api.get("/api/v1/exceptions/" + id, key(a.apiKey())).status()).isEqualTo(200);
    assertThat(api.get("/api/v1/exceptions", key(a.apiKey())).json().getInteger("count")).isEqualTo(1);
  }

  @Test
  @DisplayName("an expired exception leaves the list but can still be read by id for its count")
  void expiry() {
    Partner p = api.register("Expiring");
    Instant soon = Instant.now().plusMillis(1500);
    long id = create(p, new JsonObject().put("rule", "off_hours_signing").put("key_id", "desk").put("expires_at",
        soon.toString()).put("reason", "migration tonight")).json().getJsonObject("exception").getLong("id");
    assertThat(api.get("/api/v1/exceptions", key(p.apiKey())).json().getInteger("count")).isEqualTo(1);
    Sleep.millis(Math.max(0, soon.toEpochMilli() - System.currentTimeMillis()) + 300);
    assertThat(api.get("/api/v1/exceptions", key(p.apiKey())).json().getInteger("count")).isZero();
    assertThat(api.get("/api/v1/exceptions/" + id, key(p.apiKey())).json().getJsonObject("exception")
        .getLong("id")).isEqualTo(id);
  }

  @Test
  @DisplayName("a partner has at most 100 exceptions in force; deleting or expiring one frees a place")
  void cap() {
    Partner p = api.register("Busy Muter");
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Reply r = create(p, new JsonObject().put("rule", "new_actor").put("actor", "a" + i).put("reason", "r"));
      assertThat(r.status()).as(r.raw()).isEqualTo(201);
      ids.add(r.json().getJsonObject("exception").getLong("id"));
    }
    JsonObject more = new JsonObject().put("rule", "new_actor").put("actor", "one-more").put("reason", "r");
    Reply refused = create(p, more);
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.json().getString("message")).isEqualTo("at most 100 active exceptions per partner; delete one first");
    assertThat(db.count("SELECT count(*) FROM exemptions WHERE partner_id = ?", p.partnerId())).isEqualTo(100);

    api.delete("/api/v1/exceptions/" + ids.get(0), key(p.apiKey()));
    assertThat(create(p, more).status()).isEqualTo(201);
    assertThat(create(p, more).status()).isEqualTo(400);
    db.execute("UPDATE exemptions SET expires_at = now() - interval '1 second' WHERE id = " + ids.get(1));
    assertThat(create(p, more).status()).isEqualTo(201);
  }

  @Test
  @DisplayName("what a shard loads for a partner carries its exceptions in force; every change is announced")
  void shardsSeeThem() throws Exception {
    List<String> announced = new CopyOnWriteArrayList<>();
    MessageConsumer<PartnerSettingsChanged> listener = node.vertx().eventBus()
        .consumer(Addresses.PARTNER_SETTINGS_CHANGED, msg -> announced.add(msg.body().partnerId()));
    listener.completion().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    Partner p = api.register("Loaded");
    long kept = create(p, new JsonObject().put("rule", "policy_violation").put("key_id", "k1")
        .put("source_ip_cidr", "10.1.0.0/16").put("reason", "drills")).json().getJsonObject("exception").getLong("id");
    long dropped = create(p, new JsonObject().put("rule", "critical_event").put("reason", "noise"))
        .json().getJsonObject("exception").getLong("id");
    api.delete("/api/v1/exceptions/" + dropped, key(p.apiKey()));
    create(p, new JsonObject().put("rule", "new_actor").put("reason", "soon over")
        .put("expires_at", Instant.now().plusMillis(300).toString()));
    Sleep.millis(500);

    Pool pool = PgBuilder.pool().connectingTo(node.pg().connectOptions()).using(node.vertx()).build();
    try {
      Map<String, Object> settings = new HashMap<>(TestNode.defaults(node.pg(), "unused"));
      PartnerSettingsStore store = new PartnerSettingsStore(pool,
          Policy.defaults(ConfigLoader.load(Map.of(), settings).detect()));
      PartnerSettings loaded = store.load(p.partnerId()).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      assertThat(loaded.exemptions()).extracting(Exemption::id).containsExactly(kept);
      Exemption e = loaded.exemptions().get(0);
      assertThat(e.matches("policy_violation", "k1", "10.1.2.3", "ops", System.currentTimeMillis())).isTrue();
      assertThat(e.matches("policy_violation", "k1", "10.2.0.1", "ops", System.currentTimeMillis())).isFalse();
    } finally {
      pool.close();
      listener.unregister();
    }
    assertThat(announced.stream().filter(p.partnerId()::equals)).as("create, create, delete, create").hasSize(4);
  }

  private Reply create(Partner p, JsonObject body) {
    return api.post("/api/v1/exceptions", body, key(p.apiKey()));
  }

  private static List<Long> ids(JsonArray exceptions) {
    return exceptions.stream().map(o -> ((JsonObject) o).getLong("id")).toList();
  }
}
