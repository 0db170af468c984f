package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("Idempotency-Key on every POST that creates something")
class IdempotencyTest extends NodeTest {
  private Partner partner;

  /**
   * A creating endpoint: its path, a body (distinct per call, so cases do not meet), and how many rows
   * of what it creates the database holds for that body.
   */
  record Endpoint(String name, String path, boolean anonymous, Function<String, JsonObject> body,
                  String countSql, Function<String, Object> countArg) {
    @Override
    public String toString() {
      return name;
    }
  }

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = super.settings(pg);
    s.put("webhook.allowed_cidrs", "127.0.0.0/8");
    // The sweep that expires keys, at test speed.
    s.put("schedule.retention_check_seconds", 1);
    return s;
  }

  @BeforeAll
  void start() {
    partner = api.register("Idempotent");
  }

  static Stream<Endpoint> endpoints() {
    String events = "SELECT count(*) FROM events WHERE key_id = ?";
    return Stream.of(
        new Endpoint("partner ingest", "/api/v1/events/ingest", false,
            id -> new JsonObject().put("event_type", "key_accessed").put("key_id", id), events, id -> id),
        new Endpoint("partner ingest batch", "/api/v1/events/ingest", false,
            id -> new JsonObject().put("data", new JsonArray()
                .add(new JsonObject().put("event_type", "key_accessed").put("key_id", id))
                .add(new JsonObject().put("event_type", "signing_operation").put("key_id", id))), events, id -> id),
        new Endpoint("reference ingest", "/api/events", false,
            id -> new JsonObject().put("key_id", id).put("event_type", "key_accessed").put("severity", "nominal"),
            events, id -> id),
        new Endpoint("reference batch", "/api/events/batch", false,
            id -> new JsonObject().put("events", new JsonArray()
                .add(new JsonObject().put("key_id", id).put("event_type", "key_created").put("severity", "nominal"))
                .add(new JsonObject().put("key_id", id).put("event_type", "key_accessed").put("severity", "warning"))),
            events, id -> id),
        new Endpoint("rules", "/api/v1/rules", false,
            id -> new JsonObject().put("name", id).put("event_type_match", "*")
                .put("webhook_url", "http://127.0.0.1:9/hook").put("severity", "warning"),
            "SELECT count(*) FROM rules WHERE name = ?", id -> id),
        new Endpoint("thresholds", "/api/v1/thresholds", false,
            id -> new JsonObject().put("name", id).put("event_type", "signing_operation").put("threshold", 5)
                .put("window", "24h").put("warn_at_pct", 80),
            "SELECT count(*) FROM thresholds WHERE name = ?", id -> id),
        new Endpoint("exceptions", "/api/v1/exceptions", false,
            id -> new JsonObject().put("rule", "policy_violation").put("key_id", id).put("reason", "drill"),
            "SELECT count(*) FROM exemptions WHERE key_id = ?", id -> id),
        new Endpoint("api-keys", "/api/v1/api-keys", false, id -> new JsonObject().put("name", id),
            "SELECT count(*) FROM api_keys WHERE name = ?", id -> id),
        new Endpoint("register", "/api/v1/partners/register", true, id -> new JsonObject().put("name", id),
            "SELECT count(*) FROM partners WHERE name = ?", id -> id));
  }

  private Reply post(Endpoint e, JsonObject body, String idempotencyKey) {
    List<String> headers = new ArrayList<>();
    if (!e.anonymous()) {
      headers.addAll(List.of("X-API-Key", partner.apiKey()));
    }
    if (idempotencyKey != null) {
      headers.addAll(List.of("Idempotency-Key", idempotencyKey));
    }
    return api.post(e.path(), body, headers.toArray(new String[0]));
  }

  private long rows(Endpoint e, String id) {
    return db.count(e.countSql(), e.countArg().apply(id));
  }

  private static String unique() {
    return "idem-" + UUID.randomUUID();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("endpoints")
  @DisplayName("a retry with the same key and body gets the first answer again, marked replayed, and stores nothing new")
  void replay(Endpoint e) {
    String id = unique();
    String key = unique();
    Reply first = post(e, e.body().apply(id), key);
    assertThat(first.status()).as(first.raw()).isIn(201, 202);
    assertThat(first.header("Idempotent-Replayed")).isNull();
    long stored = rows(e, id);
    assertThat(stored).isPositive();

    Reply again = post(e, e.body().apply(id), key);

    assertThat(again.status()).isEqualTo(first.status());
    assertThat(again.raw()).isEqualTo(first.raw());
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.header("Content-Type")).isEqualTo(first.header("Content-Type"));
    assertThat(rows(e, id)).as("rows after the retry").isEqualTo(stored);
  }

  @Test
  @DisplayName("a retry sent the moment its answer arrives is never told the key is still in flight")
  void retryRightAfterTheAnswer() {
    // The key's slot used to be freed by the response's end handler, which runs after the answer
    // can already have reached the caller: a quick retry, on another connection, met a 409.
    Endpoint ingest = endpoints().findFirst().orElseThrow();
    for (int i = 0; i < 150; i++) {
      String key = unique();
      JsonObject body = ingest.body().apply(unique());
      assertThat(post(ingest, body, key).status()).isEqualTo(202);
      Reply again = post(ingest, body, key);
      assertThat(again.status()).as("retry %d: %s", i, again.raw()).isEqualTo(202);
      assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("endpoints")
  @DisplayName("the same key with a different body is refused with 422 and stores nothing")
  void differentBody(Endpoint e) {
    String key = unique();
    assertThat(post(e, e.body().apply(unique()), key).status()).isIn(201, 202);
    String other = unique();

    Reply refused = post(e, e.body().apply(other), key);

    assertThat(refused.status()).as(refused.raw()).isEqualTo(422);
    assertThat(refused.json().getBoolean("success")).isFalse();
    assertThat(refused.json().getString("message")).contains("Idempotency-Key");
    assertThat(rows(e, other)).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("endpoints")
  @DisplayName("without the header every request creates, as before")
  void withoutKey(Endpoint e) {
    assumeFalse(e.name().equals("thresholds"), "a second threshold of the same name is refused on its own");
    String id = unique();
    assertThat(post(e, e.body().apply(id), null).status()).isIn(201, 202);
    Reply second = post(e, e.body().apply(id), null);
    assertThat(second.status()).isIn(201, 202);
    assertThat(second.header("Idempotent-Replayed")).isNull();
    assertThat(rows(e, id)).isEqualTo(2 * (e.name().contains("batch") ? 2 : 1));
  }

  @Test
  @DisplayName("an ingest's key commits with its events: its row lists exactly the events it stored")
  void ingestKeyRow() {
    String id = unique();
    String key = unique();
    Endpoint batch = endpoints().filter(e -> e.name().equals("reference batch")).findFirst().orElseThrow();
    Reply first = post(batch, batch.body().apply(id), key);
    assertThat(first.status()).isEqualTo(201);

    List<Object> recorded = db.column("SELECT unnest(event_ids) FROM idempotency_keys WHERE idem_key = ?", key);
    assertThat(recorded).containsExactlyElementsOf(db.column("SELECT id FROM events WHERE key_id = ? ORDER BY id", id));
    assertThat(db.count("SELECT count(*) FROM idempotency_keys WHERE idem_key = ? AND scope = ? AND status = 201",
        key, "partner:" + partner.partnerId())).isEqualTo(1);
  }

  @Test
  @DisplayName("an ingest whose answer was never recorded (a crash after commit) replays it rebuilt from its events")
  void lostAnswerRebuilt() {
    for (String name : List.of("reference batch", "partner ingest batch")) {
      Endpoint e = endpoints().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
      String id = unique();
      String key = unique();
      Reply first = post(e, e.body().apply(id), key);
      db.execute("UPDATE idempotency_keys SET response = NULL WHERE idem_key = '" + key + "'");

      Reply again = post(e, e.body().apply(id), key);

      assertThat(again.status()).isEqualTo(first.status());
      assertThat(again.raw()).as(name).isEqualTo(first.raw());
      assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
      assertThat(rows(e, id)).isEqualTo(2);
    }
  }

  @Test
  @DisplayName("a key is the partner's own: another partner's same key creates anew")
  void scopedPerPartner() {
    Partner other = api.register("Other");
    String key = unique();
    String id = unique();
    JsonObject body = new JsonObject().put("event_type", "key_accessed").put("key_id", id);
    Reply mine = api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key", key);
    Reply theirs = api.post("/api/v1/events/ingest", body, "X-API-Key", other.apiKey(), "Idempotency-Key", key);

    Reply mineAgain = api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key", key);

    assertThat(theirs.status()).isEqualTo(202);
    assertThat(theirs.header("Idempotent-Replayed")).isNull();
    assertThat(theirs.raw()).isNotEqualTo(mine.raw());
    assertThat(mineAgain.header("Idempotent-Replayed")).as("the first partner's key still replays").isEqualTo("true");
    assertThat(mineAgain.raw()).isEqualTo(mine.raw());
    assertThat(db.count("SELECT count(*) FROM events WHERE key_id = ?", id)).isEqualTo(2);
  }

  @Test
  @DisplayName("the same key on another route is another request: 422")
  void otherRoute() {
    String key = unique();
    String id = unique();
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", id),
        "X-API-Key", partner.apiKey(), "Idempotency-Key", key).status()).isEqualTo(202);
    assertThat(api.post("/api/v1/rules", new JsonObject().put("name", id).put("event_type_match", "*")
        .put("webhook_url", "http://127.0.0.1:9/hook"), "X-API-Key", partner.apiKey(), "Idempotency-Key", key)
        .status()).isEqualTo(422);
  }

  @Test
  @DisplayName("a key longer than 255 characters is refused with 400 before anything is stored")
  void keyBounds() {
    String id = unique();
    JsonObject body = new JsonObject().put("event_type", "key_accessed").put("key_id", id);
    Reply tooLong = api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key",
        "k".repeat(256));
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().getString("message")).contains("Idempotency-Key");
    assertThat(api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key",
        "k".repeat(255)).status()).isEqualTo(202);
    assertThat(db.count("SELECT count(*) FROM events WHERE key_id = ?", id)).isEqualTo(1);
  }

  @Test
  @DisplayName("an ingest retried while the first is still committing gets 409; once answered, the replay")
  void ingestInFlight() throws Exception {
    String id = unique();
    String key = unique();
    JsonObject body = new JsonObject().put("event_type", "key_accessed").put("key_id", id);
    CompletableFuture<Reply> first;
    try (Connection hold = db.connect(); Statement st = hold.createStatement()) {
      // The group commit takes this lock: holding it keeps the first request in flight.
      st.execute("SELECT pg_advisory_lock(7317001)");
      first = CompletableFuture.supplyAsync(() -> api.post("/api/v1/events/ingest", body,
          "X-API-Key", partner.apiKey(), "Idempotency-Key", key));
      waitForLockWaiter();

      Reply concurrent = api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key", key);

      assertThat(concurrent.status()).as(concurrent.raw()).isEqualTo(409);
      st.execute("SELECT pg_advisory_unlock(7317001)");
    }
    assertThat(first.get().status()).isEqualTo(202);
    Reply replay = api.post("/api/v1/events/ingest", body, "X-API-Key", partner.apiKey(), "Idempotency-Key", key);
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(replay.raw()).isEqualTo(first.get().raw());
    assertThat(db.count("SELECT count(*) FROM events WHERE key_id = ?", id)).isEqualTo(1);
  }

  @Test
  @DisplayName("an API key mint retried while the first waits for its partner's row gets 409, and only one key exists")
  void createInFlight() throws Exception {
    String name = unique();
    String key = unique();
    JsonObject body = new JsonObject().put("name", name);
    CompletableFuture<Reply> first;
    try (Connection hold = db.connect(); Statement st = hold.createStatement()) {
      hold.setAutoCommit(false);
      // Minting locks the partner's row (FOR UPDATE): holding it keeps the first request in flight.
      st.execute("SELECT id FROM partners WHERE id = '" + partner.partnerId() + "' FOR UPDATE");
      first = CompletableFuture.supplyAsync(() -> api.post("/api/v1/api-keys", body,
          "X-API-Key", partner.apiKey(), "Idempotency-Key", key));
      waitForLockWaiter();

      Reply concurrent = api.post("/api/v1/api-keys", body, "X-API-Key", partner.apiKey(), "Idempotency-Key", key);

      assertThat(concurrent.status()).as(concurrent.raw()).isEqualTo(409);
      hold.rollback();
    }
    assertThat(first.get().status()).isEqualTo(201);
    assertThat(db.count("SELECT count(*) FROM api_keys WHERE name = ?", name)).isEqualTo(1);
  }

  @Test
  @DisplayName("a request that fails records no key: its retry runs anew")
  void failureRecordsNothing() {
    String key = unique();
    Reply bad = api.post("/api/v1/thresholds", new JsonObject().put("name", "bad"), "X-API-Key", partner.apiKey(),
        "Idempotency-Key", key);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(db.count("SELECT count(*) FROM idempotency_keys WHERE idem_key = ?", key)).isZero();
  }

  @Test
  @DisplayName("after 24 hours a key is forgotten: the same request creates anew, and the sweep deletes old keys")
  void expiry() {
    Endpoint e = endpoints().filter(x -> x.name().equals("partner ingest")).findFirst().orElseThrow();
    String id = unique();
    String key = unique();
    Reply first = post(e, e.body().apply(id), key);
    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes' WHERE idem_key = '"
        + key + "'");
    assertThat(post(e, e.body().apply(id), key).header("Idempotent-Replayed")).as("within 24 h").isEqualTo("true");

    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = '" + key + "'");
    Reply later = post(e, e.body().apply(id), key);

    assertThat(later.status()).isEqualTo(202);
    assertThat(later.header("Idempotent-Replayed")).isNull();
    assertThat(later.raw()).isNotEqualTo(first.raw());
    assertThat(rows(e, id)).isEqualTo(2);

    db.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = '" + key + "'");
    assertThat(Sleep.poll(() -> db.count("SELECT count(*) FROM idempotency_keys WHERE idem_key = ?", key) == 0
        ? true : null, 10_000)).as("swept").isTrue();
  }

  /** Until some query waits for a lock the test holds. */
  private void waitForLockWaiter() {
    assertThat(Sleep.poll(() -> db.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        + "AND datname = current_database()") > 0
        ? true : null, 10_000)).as("a request waiting for the held lock").isTrue();
  }
}
