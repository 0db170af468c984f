package io.keypulse.ops;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeProcess;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** An operator's view of a node run with KEYPULSE_LOG_FORMAT=json: what its stdout says about one request. */
@DisplayName("JSON logs and request ids")
class JsonLogsTest {
  private static final String API = "io.keypulse.api.RequestTrail";
  private static final String STORE = "io.keypulse.store.EventStoreVerticle";
  private static final String DETECTOR = "io.keypulse.detect.DetectorVerticle";
  private static final String DELIVERY = "io.keypulse.delivery.DeliveryVerticle";

  private static NodeProcess node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = NodeProcess.start(Map.of("KEYPULSE_LOG_FORMAT", "json", "KEYPULSE_LOGGING_LEVEL", "debug",
        "KEYPULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8",
        "KEYPULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()),
        "KEYPULSE_CLUSTER_NAME", "json-logs-" + System.nanoTime()),
        "run", "--ephemeral", "--port", Integer.toString(TestNode.freePort()));
    api = new Api(node.port());
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.terminate(Duration.ofSeconds(30));
    }
  }

  @Test
  @DisplayName("every line is one JSON object, and one request's id is on its api, store, detector and webhook lines")
  void oneRequestFollowed() {
    Api.Partner p = api.register("Json Logs");
    try (Receiver receiver = new Receiver()) {
      Reply rule = api.post("/api/v1/rules", new JsonObject().put("name", "All").put("event_type_match", "*")
          .put("webhook_url", receiver.url("/rule")).put("severity", "warning"), key(p.apiKey()));
      assertThat(rule.status()).as(rule.toString()).isEqualTo(201);

      String id = "trace-" + System.nanoTime();
      Reply ingest = api.post("/api/events", new JsonObject().put("key_id", "k1").put("event_type", "key_created")
          .put("severity", "nominal"), "X-API-Key", p.apiKey(), "X-Request-Id", id);
      assertThat(ingest.status()).as(ingest.toString()).isEqualTo(201);
      assertThat(ingest.header("X-Request-Id")).as("a short, plain client id is kept").isEqualTo(id);
      assertThat(receiver.await("/rule", h -> true, 1, 15_000)).as("the rule's webhook").hasSize(1);

      Set<String> loggers = awaitLoggers(id, Set.of(API, STORE, DETECTOR, DELIVERY));
      assertThat(loggers).as("loggers of the lines carrying %s", id).contains(API, STORE, DETECTOR, DELIVERY);
    }
  }

  @Test
  @DisplayName("an alert's webhook line carries the id of the request whose event raised it")
  void alertWebhookFollowed() {
    Api.Partner p = api.register("Json Logs Alerts");
    try (Receiver receiver = new Receiver()) {
      Reply hook = api.put("/api/v1/partners/webhook", new JsonObject().put("url", receiver.url("/alerts")),
          key(p.apiKey()));
      assertThat(hook.status()).as(hook.toString()).isEqualTo(200);
      String id = "alert-trace-" + System.nanoTime();
      Reply ingest = api.post("/api/events", new JsonObject().put("key_id", "k9").put("event_type", "key_exported")
          .put("severity", "critical"), "X-API-Key", p.apiKey(), "X-Request-Id", id);
      assertThat(ingest.status()).as(ingest.toString()).isEqualTo(201);
      assertThat(ingest.json().getInteger("alerts_triggered")).as(ingest.toString()).isPositive();
      assertThat(receiver.await("/alerts", h -> true, 1, 15_000)).as("the alert's webhook").isNotEmpty();

      long deadline = System.currentTimeMillis() + 15_000;
      List<JsonObject> attempts;
      do {
        attempts = lines().stream().filter(line -> DELIVERY.equals(line.getString("loggerName")))
            .filter(line -> line.getString("formattedMessage", "").contains("/alerts")).toList();
        if (!attempts.isEmpty() && attempts.stream().allMatch(line -> carries(line, id))) {
          break;
        }
        Sleep.millis(100);
      } while (System.currentTimeMillis() < deadline);
      assertThat(attempts).as("the alert webhook's attempt lines among %s", lines().stream()
          .filter(line -> DELIVERY.equals(line.getString("loggerName"))).toList()).isNotEmpty().allMatch(line -> carries(line, id));
    }
  }

  @Test
  @DisplayName("X-Request-Id is answered on every request; a long or unprintable one from the client is replaced")
  void requestIdAnswered() {
    String fresh = api.get("/health").header("X-Request-Id");
    assertThat(fresh).matches("[0-9a-f]{16}");
    assertThat(api.get("/health").header("X-Request-Id")).isNotEqualTo(fresh);
    assertThat(api.get("/nope").header("X-Request-Id")).as("on a 404 too").matches("[0-9a-f]{16}");
    for (String hostile : List.of("x".repeat(65), "has space", "a,b", "tab\there", "")) {
      String answered = api.get("/health", "X-Request-Id", hostile).header("X-Request-Id");
      assertThat(answered).as("for %s", hostile).matches("[0-9a-f]{16}");
    }
    assertThat(api.get("/health", "X-Request-Id", "x".repeat(64)).header("X-Request-Id")).isEqualTo("x".repeat(64));
  }

  /** Waits for lines carrying the id from every wanted logger (the webhook's line comes after its answer). */
  private static Set<String> awaitLoggers(String id, Set<String> wanted) {
    long deadline = System.currentTimeMillis() + 15_000;
    Set<String> found;
    do {
      found = lines().stream().filter(line -> carries(line, id)).map(line -> line.getString("loggerName"))
          .collect(Collectors.toSet());
      if (found.containsAll(wanted)) {
        return found;
      }
      Sleep.millis(100);
    } while (System.currentTimeMillis() < deadline);
    return found;
  }

  /** Every line of the node's output, each of which must be a JSON object. */
  private static List<JsonObject> lines() {
    List<JsonObject> out = new ArrayList<>();
    for (String line : node.output().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        out.add(new JsonObject(line));
      } catch (DecodeException e) {
        throw new AssertionError("not a JSON object: " + line, e);
      }
    }
    return out;
  }

  private static boolean carries(JsonObject line, String id) {
    JsonObject mdc = line.getJsonObject("mdc");
    if (mdc == null) {
      return false;
    }
    return id.equals(mdc.getString("request_id"))
        || (mdc.getString("request_ids") != null && Arrays.asList(mdc.getString("request_ids").split(",")).contains(id));
  }
}
