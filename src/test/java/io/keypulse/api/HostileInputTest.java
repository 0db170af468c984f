package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keypulse.api.HostileCases.Case;
import io.keypulse.api.HostileCases.Who;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.ClientJson;
import io.keypulse.testing.StoredRows;
import io.keypulse.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Hostile input over every write endpoint and every query and path parameter (HostileCases): no
 * answer is a 5xx, nothing is stored, nothing is logged as an error. Values a field must refuse
 * are a 400-class JSON error naming the field; odd but valid text is stored exactly as sent.
 */
@DisplayName("Hostile input")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest extends NodeTest {
  private static final String[] OPERATOR = {"Authorization", "Bearer test-admin-token"};
  private final List<Case> table = HostileCases.all();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private Partner partner;
  private StoredRows rows;
  private String stored;

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "test-" + UUID.randomUUID());
    s.put("rate_limit.admin_per_min", 100_000);
    return s;
  }

  @BeforeAll
  void partnerWithAKey() {
    // Appended to from event-loop threads while the test reads it.
    logged.list = new CopyOnWriteArrayList<>();
    logged.start();
    root().addAppender(logged);
    partner = api.register("Hostile Input");
    Reply first = api.post("/api/events", new JsonObject().put("key_id", "k").put("event_type", "signing_request")
        .put("severity", "nominal"), "X-API-Key", partner.apiKey());
    assertThat(first.status()).as(first.raw()).isEqualTo(201);
    rows = new StoredRows(db);
    stored = settled();
  }

  /** The rows once the first event's after-effects (key row, stats, detection) have landed. */
  private String settled() {
    String previous = rows.now();
    for (int i = 0; i < 20; i++) {
      Sleep.millis(300);
      String now = rows.now();
      if (now.equals(previous)) {
        return now;
      }
      previous = now;
    }
    throw new IllegalStateException("the database does not settle: " + previous);
  }

  @AfterAll
  void detach() {
    rows.close();
    root().detachAppender(logged);
  }

  @Test
  @Order(1)
  @DisplayName("the generated table holds at least 200 cases that must be refused")
  void enoughCases() {
    assertThat(table.stream().filter(Case::mustRefuse)).hasSizeGreaterThanOrEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @Order(2)
  @DisplayName("is answered below 500, stores nothing and logs no error; a value to refuse is a 4xx naming its field")
  void hostile(Case c) {
    int errorsBefore = errors().size();
    Reply r = send(c);
    String before = stored;
    stored = rows.now();

    assertThat(r.status()).as(c + ": " + r.raw()).isLessThan(500);
    assertThat(stored).as("rows after " + c).isEqualTo(before);
    List<ILoggingEvent> errors = errors();
    assertThat(errors.subList(errorsBefore, errors.size())).as("errors logged by " + c).isEmpty();
    if (c.mustRefuse()) {
      assertThat(r.status()).as(c + ": " + r.raw()).isBetween(400, 499);
      JsonObject error = r.json();
      assertThat(error.getBoolean("success")).isFalse();
      // A body past its route's cap (registration: 16 KiB) is refused before it is read, so the
      // answer names the size rather than the field.
      assertThat(error.getString("message")).as(c.toString())
          .contains(r.status() == 413 ? "request body too large" : c.hint());
    }
  }

  Stream<Arguments> cases() {
    return table.stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oddButValid")
  @Order(3)
  @DisplayName("odd but printable text is accepted and stored exactly as sent")
  void oddButValid(String what, String method, String path, JsonObject body, String check) {
    String value = body.getString("value");
    body.remove("value");
    Reply r = api.send(method, path, "application/json", ClientJson.encode(body), "X-API-Key", partner.apiKey());

    assertThat(r.status()).as(r.raw()).isBetween(200, 299);
    assertThat(db.count(check, value)).as(what).isEqualTo(1L);
  }

  Stream<Arguments> oddButValid() {
    // Right-to-left letters and the joiners are text; a bidi override or a zero-width space is refused (HostileValues).
    String rtl = "\u05de\u05e4\u05ea\u05d7-\u0645\u0641\u062a\u0627\u062d-1";
    String joiner = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645";
    String emoji = "\ud83d\udc69\u200d\ud83d\udcbb key";
    String sql = "x'); DROP TABLE events;--";
    String path = "../../etc/passwd";
    return Stream.of(
        Arguments.of("Hebrew and Arabic in a key id", "POST", "/api/events", event(rtl),
            "SELECT count(*) FROM events WHERE key_id = ?"),
        Arguments.of("SQL in an actor", "POST", "/api/events", event("k").put("actor", sql).put("value", sql),
            "SELECT count(*) FROM events WHERE actor = ?"),
        Arguments.of("an emoji sequence in details", "POST", "/api/events", event("k")
            .put("details", new JsonObject().put("who", emoji)).put("value", emoji),
            "SELECT count(*) FROM events WHERE details->>'who' = ?"),
        Arguments.of("a zero-width non-joiner in a Persian key name", "PATCH", "/api/keys/k",
            new JsonObject().put("name", joiner).put("value", joiner),
            "SELECT count(*) FROM keys WHERE name = ?"),
        Arguments.of("a path in a threshold name", "POST", "/api/v1/thresholds", new JsonObject().put("name", path)
            .put("event_type", "signing_request").put("threshold", 5).put("window", "1h").put("value", path),
            "SELECT count(*) FROM thresholds WHERE name = ?"),
        Arguments.of("an emoji in an exception's reason", "POST", "/api/v1/exceptions", new JsonObject()
            .put("rule", "new_actor").put("reason", emoji).put("value", emoji),
            "SELECT count(*) FROM exemptions WHERE reason = ?"));
  }

  private static JsonObject event(String keyId) {
    return new JsonObject().put("key_id", keyId).put("event_type", "signing_request").put("severity", "nominal")
        .put("value", keyId);
  }

  private Reply send(Case c) {
    String path = c.path().replace("{pid}", partner.partnerId());
    byte[] body = c.body() == null ? null
        : new String(c.body(), StandardCharsets.US_ASCII).replace("{pid}", partner.partnerId()).getBytes(
            StandardCharsets.US_ASCII);
    String[] who = c.who() == Who.PARTNER ? new String[] {"X-API-Key", partner.apiKey()}
        : c.who() == Who.OPERATOR ? OPERATOR : new String[0];
    return api.send(c.method(), path, body == null ? null : "application/json", body, who);
  }

  /** Errors, and anything logged with a stack trace. */
  private List<ILoggingEvent> errors() {
    return logged.list.stream().filter(e -> e.getLevel() == Level.ERROR || e.getThrowableProxy() != null).toList();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
