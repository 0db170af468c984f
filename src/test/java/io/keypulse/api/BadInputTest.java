package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad request gets the right 4xx in the JSON error shape, and stores nothing. */
@DisplayName("Bad input")
class BadInputTest extends NodeTest {
  private static final String JSON = "application/json";
  private static final String VALID = "valid";
  private String key;

  /** credential: null sends no key, VALID the partner's key, anything else is sent as X-API-Key. */
  record Case(String name, String method, String path, String contentType, byte[] body, String credential, int status,
              String messageHint) {
    @Override
    public String toString() {
      return name;
    }
  }

  @BeforeAll
  void start() {
    key = api.register("Bad Input").apiKey();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("is refused with the right status, a JSON error and nothing stored")
  void refused(Case c) {
    long events = db.count("SELECT count(*) FROM events");
    long partners = db.count("SELECT count(*) FROM partners");
    List<String> headers = new ArrayList<>();
    if (c.credential() != null) {
      headers.addAll(List.of("X-API-Key", c.credential().equals(VALID) ? key : c.credential()));
    }
    Reply r = api.send(c.method(), c.path(), c.contentType(), c.body(), headers.toArray(new String[0]));

    assertThat(r.status()).as(r.raw()).isEqualTo(c.status());
    JsonObject error = r.json();
    assertThat(error.getBoolean("success")).isFalse();
    assertThat(error.getString("message")).isNotBlank().containsIgnoringCase(c.messageHint());
    assertThat(r.header("Content-Type")).startsWith("application/json");
    assertThat(db.count("SELECT count(*) FROM events")).isEqualTo(events);
    assertThat(db.count("SELECT count(*) FROM partners")).isEqualTo(partners);
  }

  @Test
  @DisplayName("the table holds at least 40 cases")
  void enoughCases() {
    assertThat(cases()).hasSizeGreaterThanOrEqualTo(40);
  }

  List<Case> cases() {
    List<Case> c = new ArrayList<>();
    // Body and media type.
    c.add(raw("malformed JSON", "/api/events", JSON, "{\"key_id\": \"x\", ", 400, "malformed"));
    c.add(raw("empty body", "/api/events", JSON, "", 400, "empty"));
    c.add(raw("a JSON array as body", "/api/events", JSON, "[]", 400, "object"));
    c.add(raw("a JSON string as body", "/api/events", JSON, "\"event\"", 400, "object"));
    c.add(raw("JSON null as body", "/api/events", JSON, "null", 400, "object"));
    c.add(raw("text/plain body", "/api/events", "text/plain", "key_id=x", 415, "application/json"));
    c.add(raw("no Content-Type", "/api/events", null, "{}", 415, "application/json"));
    c.add(raw("form body", "/api/events", "application/x-www-form-urlencoded", "key_id=x", 415, "application/json"));
    c.add(bytes("invalid UTF-8", "/api/events", new byte[] {'{', '"', 'k', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'},
        400, "malformed"));
    c.add(raw("JSON nested 5000 deep", "/api/events", JSON, "{\"d\":".repeat(5000) + "1" + "}".repeat(5000), 400,
        "malformed"));
    c.add(raw("body over 1 MiB", "/api/events", JSON, "{\"pad\":\"" + "a".repeat(1_100_000) + "\"}", 413, "too large"));
    // Reference dialect fields.
    c.add(ref("missing key_id", good().copy().put("key_id", null), "key_id is required"));
    c.add(ref("missing event_type", without("event_type"), "event_type is required"));
    c.add(ref("missing severity", without("severity"), "severity"));
    c.add(ref("unknown severity", good().put("severity", "urgent"), "severity"));
    c.add(ref("severity in capitals", good().put("severity", "Nominal"), "severity"));
    c.add(ref("severity as a number", good().put("severity", 2), "severity"));
    c.add(ref("SQL in severity", good().put("severity", "nominal'; DROP TABLE events;--"), "severity"));
    c.add(ref("key_id as a number", good().put("key_id", 42), "key_id must be a string"));
    c.add(ref("empty key_id", good().put("key_id", ""), "key_id"));
    c.add(ref("blank key_id", good().put("key_id", "   "), "key_id"));
    c.add(ref("key_id of 129 characters", good().put("key_id", "k".repeat(129)), "key_id"));
    c.add(ref("key_id of 100 000 characters", good().put("key_id", "k".repeat(100_000)), "key_id"));
    c.add(ref("key_id with a newline", good().put("key_id", "a\nb"), "control"));
    c.add(ref("key_id with NUL", good().put("key_id", "a\u0000b"), "key_id contains a NUL"));
    c.add(raw("key_id with a lone surrogate", "/api/events", JSON,
        "{\"key_id\":\"k\\ud800\",\"event_type\":\"signing_request\",\"severity\":\"nominal\"}", 400, "unicode"));
    c.add(ref("empty event_type", good().put("event_type", ""), "event_type"));
    c.add(ref("event_type of 129 characters", good().put("event_type", "e".repeat(129)), "event_type"));
    c.add(ref("event_type with a tab", good().put("event_type", "tab\there"), "event_type"));
    c.add(ref("event_type with NUL", good().put("event_type", "a\u0000b"), "event_type"));
    c.add(raw("event_type with a lone surrogate", "/api/events", JSON,
        "{\"key_id\":\"k\",\"event_type\":\"x\\udc00\",\"severity\":\"nominal\"}", 400, "event_type"));
    c.add(ref("source_ip out of range", good().put("source_ip", "999.1.1.1"), "source_ip"));
    c.add(ref("source_ip as a host name", good().put("source_ip", "example.com"), "source_ip"));
    c.add(ref("source_ip as a number", good().put("source_ip", 167772161), "source_ip"));
    c.add(ref("actor as a number", good().put("actor", 7), "actor"));
    c.add(ref("actor with NUL", good().put("actor", "svc\u0000"), "actor"));
    c.add(ref("actor of 257 characters", good().put("actor", "a".repeat(257)), "actor"));
    c.add(ref("details as a string", good().put("details", "x"), "details must be a JSON object"));
    c.add(ref("details as an array", good().put("details", new JsonArray().add(1)), "details must be a JSON object"));
    c.add(ref("NUL inside details", good().put("details", new JsonObject().put("a", new JsonArray().add("x\u0000"))),
        "details.a[0]"));
    c.add(raw("lone surrogate in a details key", "/api/events", JSON,
        "{\"key_id\":\"k\",\"event_type\":\"signing_request\",\"severity\":\"nominal\",\"details\":{\"\\udc00\":1}}",
        400, "unicode"));
    c.add(ref("details over 16 KiB", good().put("details", new JsonObject().put("pad", "p".repeat(17_000))),
        "16384"));
    c.add(raw("a number out of range in details", "/api/events", JSON,
        "{\"key_id\":\"k\",\"event_type\":\"signing_request\",\"severity\":\"nominal\",\"details\":{\"n\":1e400}}",
        400, "out of range"));
    c.add(ref("occurred_at not a date", good().put("occurred_at", "yesterday"), "occurred_at"));
    c.add(ref("occurred_at as a number", good().put("occurred_at", 1700000000), "occurred_at"));
    c.add(ref("occurred_at a year ahead", good().put("occurred_at", "2099-01-01T00:00:00Z"), "occurred_at"));
    // Reference batches: all or nothing.
    c.add(post("batch without events", "/api/events/batch", new JsonObject(), "events must be an array"));
    c.add(post("batch events not an array", "/api/events/batch", new JsonObject().put("events", "x"), "events"));
    c.add(post("empty batch", "/api/events/batch", new JsonObject().put("events", new JsonArray()), "1 to 100"));
    c.add(post("batch of 101", "/api/events/batch", new JsonObject().put("events", repeat(good(), 101)), "1 to 100"));
    c.add(post("batch with one bad event", "/api/events/batch", new JsonObject().put("events",
        repeat(good(), 2).add(good().put("severity", "bogus"))), "events[2]"));
    c.add(post("batch with a non-object", "/api/events/batch", new JsonObject().put("events",
        repeat(good(), 1).add("x")), "events[1]"));
    // Partner dialect.
    JsonObject v1 = new JsonObject().put("event_type", "key_accessed").put("key_id", "k");
    c.add(post("v1 empty data batch", "/api/v1/events/ingest", new JsonObject().put("data", new JsonArray()), "1 to 100"));
    c.add(post("v1 batch of 101", "/api/v1/events/ingest", new JsonObject().put("data", repeat(v1, 101)), "1 to 100"));
    c.add(post("v1 batch with one event lacking event_type", "/api/v1/events/ingest",
        new JsonObject().put("data", repeat(v1, 1).add(new JsonObject().put("key_id", "k"))), "data[1]"));
    c.add(post("v1 data.ip invalid", "/api/v1/events/ingest", v1.copy().put("data", new JsonObject().put("ip", "1.2.3")),
        "data.ip"));
    c.add(post("v1 data.actor a number", "/api/v1/events/ingest",
        v1.copy().put("data", new JsonObject().put("actor", 5)), "data.actor"));
    c.add(post("v1 unknown severity", "/api/v1/events/ingest", v1.copy().put("severity", "high"), "severity"));
    c.add(post("v1 data as a string", "/api/v1/events/ingest", v1.copy().put("data", "x"), "data must be a JSON object"));
    // Credentials.
    c.add(new Case("no API key", "POST", "/api/events", JSON, good().toBuffer().getBytes(), null, 401, "missing"));
    c.add(new Case("unknown API key", "POST", "/api/events", JSON, good().toBuffer().getBytes(),
        "pk_live_" + "x".repeat(40), 401, "invalid"));
    c.add(new Case("malformed API key", "POST", "/api/events", JSON, good().toBuffer().getBytes(), "secret", 401,
        "invalid"));
    // Routes, methods and query parameters.
    c.add(new Case("unknown route", "GET", "/api/nothing-here", null, null, VALID, 404, "not found"));
    c.add(new Case("wrong method", "PUT", "/api/events", JSON, "{}".getBytes(), VALID, 405, "method"));
    c.add(get("limit not a number", "/api/events?limit=abc", "limit"));
    c.add(get("limit zero", "/api/events?limit=0", "limit"));
    c.add(get("limit negative", "/api/events?limit=-5", "limit"));
    c.add(get("before_id not a number", "/api/events?before_id=xyz", "before_id"));
    c.add(get("unknown severity filter", "/api/events?severity=urgent", "severity"));
    c.add(get("since not a date", "/api/events?since=yesterday", "since"));
    // Registration (public).
    c.add(new Case("register without name", "POST", "/api/v1/partners/register", JSON, "{}".getBytes(), null, 400,
        "name"));
    c.add(new Case("register with a numeric name", "POST", "/api/v1/partners/register", JSON,
        "{\"name\":42}".getBytes(), null, 400, "name"));
    c.add(new Case("register with an ftp webhook", "POST", "/api/v1/partners/register", JSON,
        "{\"name\":\"x\",\"webhook_url\":\"ftp://example.com/x\"}".getBytes(), null, 400, "webhook_url"));
    c.add(new Case("register with a 201-character name", "POST", "/api/v1/partners/register", JSON,
        new JsonObject().put("name", "n".repeat(201)).toBuffer().getBytes(), null, 400, "name"));
    return c;
  }

  private static JsonObject good() {
    return new JsonObject().put("key_id", "k").put("event_type", "signing_request").put("severity", "nominal");
  }

  private static JsonObject without(String field) {
    JsonObject o = good();
    o.remove(field);
    return o;
  }

  private static JsonArray repeat(JsonObject event, int n) {
    return new JsonArray(new ArrayList<>(Stream.generate(event::copy).limit(n).map(Object.class::cast).toList()));
  }

  private static Case ref(String name, JsonObject body, String hint) {
    return post(name, "/api/events", body, hint);
  }

  private static Case post(String name, String path, JsonObject body, String hint) {
    return new Case(name, "POST", path, JSON, body.toBuffer().getBytes(), VALID, 400, hint);
  }

  private static Case get(String name, String path, String hint) {
    return new Case(name, "GET", path, null, null, VALID, 400, hint);
  }

  private static Case raw(String name, String path, String type, String body, int status, String hint) {
    return new Case(name, "POST", path, type, body.getBytes(StandardCharsets.UTF_8), VALID, status, hint);
  }

  private static Case bytes(String name, String path, byte[] body, int status, String hint) {
    return new Case(name, "POST", path, JSON, body, VALID, status, hint);
  }
}
