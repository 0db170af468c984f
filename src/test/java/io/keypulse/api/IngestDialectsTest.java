package io.keypulse.api;

import static io.keypulse.testing.Api.bearer;
import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Ingest in both dialects")
class IngestDialectsTest extends NodeTest {
  private Partner partner;

  @BeforeAll
  void start() {
    partner = api.register("Dialects");
  }

  @Test
  @DisplayName("the partner dialect answers 202 with evt_<id>, and the row holds data, IP and actor from data")
  void partnerSingle() {
    Reply r = api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_rotated")
        .put("key_id", "eth-validator-key-007").put("data", new JsonObject().put("triggered_by", "scheduled_policy")
            .put("previous_age_days", 90).put("ip", "192.0.2.10")), key(partner.apiKey()));

    assertThat(r.status()).isEqualTo(202);
    assertThat(r.json().fieldNames()).containsExactly("event_id");
    long id = Long.parseLong(r.json().getString("event_id").substring(4));
    assertThat(db.count("SELECT count(*) FROM events WHERE id = ? AND partner_id = ? AND key_id = ? "
        + "AND source_ip = '192.0.2.10' AND actor = 'scheduled_policy' AND canonical_type = 'rotate' "
        + "AND severity = 'nominal' AND details->>'previous_age_days' = '90'", id, partner.partnerId(),
        "eth-validator-key-007")).isEqualTo(1);
  }

  @Test
  @DisplayName("the partner dialect's batch answers event_ids in order, and Bearer works as well as X-API-Key")
  void partnerBatch() {
    JsonArray data = new JsonArray();
    for (int i = 0; i < 3; i++) {
      data.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "batch-key-" + i));
    }
    Reply r = api.post("/api/v1/events/ingest", new JsonObject().put("data", data), bearer(partner.apiKey()));

    assertThat(r.status()).isEqualTo(202);
    List<Object> ids = r.array("event_ids").getList();
    assertThat(ids).hasSize(3);
    List<Long> numeric = ids.stream().map(o -> Long.parseLong(((String) o).substring(4))).toList();
    assertThat(numeric).isSorted();
    assertThat(db.<String>column("SELECT key_id FROM events WHERE id = ANY(?) ORDER BY id",
        (Object) numeric.toArray(new Long[0]))).containsExactly("batch-key-0", "batch-key-1", "batch-key-2");
  }

  @Test
  @DisplayName("the reference dialect answers 201 with the stored event, exactly the documented fields")
  void referenceSingle() {
    JsonObject details = new JsonObject().put("tx_hash", "0xabc123").put("chain", "ethereum").put("amount_usd", 42500);
    Reply r = api.post("/api/events", new JsonObject().put("key_id", "my-signing-key-01")
        .put("event_type", "signing_request").put("severity", "nominal").put("source_ip", "10.0.0.1")
        .put("actor", "service-account@myapp.com").put("details", details), bearer(partner.apiKey()));

    assertThat(r.status()).isEqualTo(201);
    JsonObject e = r.json();
    assertThat(e.fieldNames()).containsExactly("success", "id", "key_id", "event_type", "severity", "score",
        "source_ip", "actor", "details", "occurred_at", "created_at", "alerts_triggered");
    assertThat(e.getBoolean("success")).isTrue();
    assertThat(e.getString("key_id")).isEqualTo("my-signing-key-01");
    assertThat(e.getString("source_ip")).isEqualTo("10.0.0.1");
    assertThat(e.getString("actor")).isEqualTo("service-account@myapp.com");
    assertThat(e.getJsonObject("details")).isEqualTo(details);
    assertThat(e.getString("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(e.getString("occurred_at")).isEqualTo(e.getString("created_at"));
    assertThat(e.getInteger("alerts_triggered")).isZero();
    assertThat(db.count("SELECT count(*) FROM events WHERE id = ? AND canonical_type = 'sign'", e.getLong("id")))
        .isEqualTo(1);
  }

  @Test
  @DisplayName("the reference batch stores all events and answers count and events")
  void referenceBatch() {
    JsonArray events = new JsonArray()
        .add(new JsonObject().put("key_id", "key-01").put("event_type", "signing_request").put("severity", "nominal"))
        .add(new JsonObject().put("key_id", "key-02").put("event_type", "export").put("severity", "warning")
            .put("actor", "auditor"))
        .add(new JsonObject().put("key_id", "key-01").put("event_type", "rotation").put("severity", "nominal"));
    Reply r = api.post("/api/events/batch", new JsonObject().put("events", events), key(partner.apiKey()));

    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json().getInteger("count")).isEqualTo(3);
    JsonArray stored = r.array("events");
    assertThat(stored.getJsonObject(1).getString("actor")).isEqualTo("auditor");
    assertThat(stored.getJsonObject(1).getString("severity")).isEqualTo("warning");
    assertThat(db.<String>column("SELECT canonical_type FROM events WHERE id IN (?, ?, ?) ORDER BY id",
        stored.getJsonObject(0).getLong("id"), stored.getJsonObject(1).getLong("id"), stored.getJsonObject(2).getLong("id")))
        .containsExactly("sign", "export", "rotate");
  }

  @Test
  @DisplayName("occurred_at backfills event time while created_at stays the commit time")
  void backfill() {
    Instant weekAgo = Instant.now().minusSeconds(7 * 24 * 3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    Reply r = api.post("/api/events", new JsonObject().put("key_id", "backfilled").put("event_type", "signing_request")
        .put("severity", "nominal").put("occurred_at", weekAgo.toString()), key(partner.apiKey()));

    assertThat(r.status()).isEqualTo(201);
    assertThat(Instant.parse(r.json().getString("occurred_at"))).isEqualTo(weekAgo);
    assertThat(Instant.parse(r.json().getString("created_at"))).isAfter(Instant.now().minusSeconds(60));
  }

  @Test
  @DisplayName("an access with data.export=true counts as an export; unknown types are kept as custom types")
  void canonicalTypes() {
    Reply export = api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed")
        .put("key_id", "k-export").put("data", new JsonObject().put("export", true)), key(partner.apiKey()));
    Reply custom = api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "hsm.firmware:update")
        .put("key_id", "k-custom"), key(partner.apiKey()));

    assertThat(db.<String>column("SELECT coalesce(canonical_type, 'custom') FROM events WHERE id IN (?, ?) ORDER BY id",
        id(export), id(custom))).containsExactly("export", "custom");
  }

  @Test
  @DisplayName("an event type is any printable string up to 128 characters, stored and served as sent; key_exported is an export")
  void customTypes() {
    String custom = "Has Spaces, Capitals & ✓ 🔑 — '; DROP TABLE events; --";
    Reply r = api.post("/api/events", new JsonObject().put("key_id", "k-types").put("event_type", custom)
        .put("severity", "nominal"), key(partner.apiKey()));
    assertThat(r.status()).as(r.raw()).isEqualTo(201);
    assertThat(r.json().getString("event_type")).isEqualTo(custom);
    Reply back = api.get("/api/events?key_id=k-types&event_type="
        + java.net.URLEncoder.encode(custom, java.nio.charset.StandardCharsets.UTF_8), key(partner.apiKey()));
    assertThat(back.array("events").getJsonObject(0).getString("event_type")).isEqualTo(custom);
    Reply exported = api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_exported")
        .put("key_id", "k-types"), key(partner.apiKey()));
    assertThat(db.<String>column("SELECT canonical_type FROM events WHERE id = ?", id(exported)))
        .containsExactly("export");
    assertThat(api.post("/api/events", new JsonObject().put("key_id", "k-types").put("event_type", "e".repeat(128))
        .put("severity", "nominal"), key(partner.apiKey())).status()).isEqualTo(201);
  }

  @Test
  @DisplayName("Unicode, SQL-looking strings and big numbers are stored verbatim")
  void verbatim() {
    String sqlish = "'; DROP TABLE events; --";
    JsonObject details = new JsonObject().put("note", "süß ✓ 🔑 مفتاح").put("sql", sqlish)
        .put("big", new BigInteger("123456789012345678901234567890"));
    Reply r = api.post("/api/events", new JsonObject().put("key_id", sqlish).put("event_type", "signing_request")
        .put("severity", "nominal").put("actor", "Zoë <ops@例え.jp>").put("details", details), key(partner.apiKey()));

    assertThat(r.status()).isEqualTo(201);
    Reply back = api.get("/api/events?key_id=" + java.net.URLEncoder.encode(sqlish, java.nio.charset.StandardCharsets.UTF_8),
        key(partner.apiKey()));
    JsonObject stored = back.array("events").getJsonObject(0);
    assertThat(stored.getString("key_id")).isEqualTo(sqlish);
    assertThat(stored.getString("actor")).isEqualTo("Zoë <ops@例え.jp>");
    assertThat(stored.getJsonObject("details").getString("note")).isEqualTo("süß ✓ 🔑 مفتاح");
    assertThat(back.raw()).contains("123456789012345678901234567890");
  }

  @Test
  @DisplayName("IPv6 source addresses are accepted and stored in their canonical short form")
  void ipv6() {
    Reply r = api.post("/api/events", new JsonObject().put("key_id", "k6").put("event_type", "key_access")
        .put("severity", "nominal").put("source_ip", "2001:0db8:0000:0000:0000:0000:0000:0001"), key(partner.apiKey()));

    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json().getString("source_ip")).isEqualTo("2001:db8::1");
  }

  private static long id(Reply partnerDialectReply) {
    return Long.parseLong(partnerDialectReply.json().getString("event_id").substring(4));
  }
}
