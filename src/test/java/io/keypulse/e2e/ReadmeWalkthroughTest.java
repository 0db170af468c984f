package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api;
import io.keypulse.testing.CurlCommand;
import io.keypulse.testing.JsonShapes;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.ReadmeWalkthrough;
import io.keypulse.testing.ReadmeWalkthrough.Block;
import io.keypulse.testing.ReadmeWalkthrough.Step;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The README is the source: its curl walkthrough runs, in order, against a fresh node, and every
 * answer must have the shape (field names and JSON types, not values) of the answer the README shows.
 * Variables are bound as the README binds them: {@code K=<value>} takes the value the node answered
 * where the README's earlier answer shows that value; the operator token is the node's.
 */
@DisplayName("The README's walkthrough")
class ReadmeWalkthroughTest extends NodeTest {
  private static final String README_HOST = "localhost:8080";
  /** Where the README's webhooks go; the test's receiver stands in for it. */
  private static final String README_RECEIVER = "https://your-platform.com";
  private static final Pattern ASSIGNMENT = Pattern.compile("([A-Z][A-Z0-9_]*)=(\\$\\([^)]*\\)|\\S+).*");
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/\\S+ (\\d{3}).*");
  /** Answers that depend on work after the request (a webhook delivered) are read again until then. */
  private static final long SETTLE_MILLIS = 10_000;
  private static final String SPIKE = "a week of hot-wallet-eth at 10 signings an hour, then 160 in a few seconds";

  private final Receiver receiver = new Receiver();
  private final Map<String, String> vars = new HashMap<>();
  /** Each answer the README shows, with the node's answer to the same request. */
  private final List<Object[]> answers = new ArrayList<>();

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "test-" + UUID.randomUUID());
    s.put("webhook.allowed_cidrs", "127.0.0.0/8");
    return s;
  }

  @AfterAll
  void stopReceiver() {
    receiver.close();
  }

  @Test
  @DisplayName("every curl example runs against a node and answers in the shape the README shows")
  void walkthrough() {
    List<Block> blocks = ReadmeWalkthrough.read(Path.of("README.md"));
    assertThat(blocks.stream().filter(Block::unmarked).map(Block::line).toList())
        .as("README fences with curl but no <!-- walkthrough --> or <!-- walkthrough: skip: why --> marker").isEmpty();
    List<String> problems = new ArrayList<>();
    int run = 0;
    for (Block block : blocks.stream().filter(Block::run).toList()) {
      if (block.given() != null) {
        given(block.given());
      }
      for (Step step : block.steps()) {
        run++;
        try {
          List<String> found = run(step);
          if (!found.isEmpty()) {
            problems.add("README.md:" + step.line() + " " + step.command() + "\n    " + String.join("\n    ", found));
          }
        } catch (RuntimeException e) {
          problems.add("README.md:" + step.line() + " " + step.command() + "\n    " + e);
        }
      }
    }
    assertThat(run).as("commands run").isGreaterThan(20);
    assertThat(String.join("\n", problems)).as("answers that differ from the README's").isEmpty();
  }

  private List<String> run(Step step) {
    Matcher assignment = ASSIGNMENT.matcher(step.command());
    if (assignment.matches()) {
      vars.put(assignment.group(1), bind(assignment.group(2)));
      return List.of();
    }
    CurlCommand curl = CurlCommand.parse(step.command().replace(README_RECEIVER, "http://127.0.0.1:" + receiver.port()), vars);
    Answer shown = Answer.of(step.answer());
    long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
    while (true) {
      Api.Reply reply = send(curl);
      List<String> problems = shown.differences(reply);
      if (problems.isEmpty() || !curl.method().equals("GET") || System.currentTimeMillis() > deadline) {
        if (shown.body() != null && reply.raw().startsWith("{")) {
          answers.add(new Object[] {shown.body(), reply.json()});
        }
        return problems;
      }
      Sleep.millis(200);
    }
  }

  /** What a marker says the README's example starts from, set up through the partner's API. */
  private void given(String what) {
    if (!what.equals(SPIKE)) {
      throw new IllegalArgumentException("the walkthrough does not know how to set up: " + what);
    }
    Instant now = Instant.now();
    JsonArray events = new JsonArray().add(signing("key_created", now.minus(Duration.ofHours(7 * 24 + 1))));
    Instant hour = now.truncatedTo(ChronoUnit.HOURS);
    for (int h = 7 * 24; h > 0; h--) {
      for (int i = 0; i < 10; i++) {
        events.add(signing("signing_operation", hour.minus(Duration.ofHours(h)).plusSeconds(i * 360L + 17)));
      }
    }
    for (int i = 0; i < 160; i++) {
      events.add(signing("signing_operation", now));
    }
    for (int from = 0; from < events.size(); from += 100) {
      JsonObject batch = new JsonObject().put("data", new JsonArray(events.getList().subList(from, Math.min(from + 100, events.size()))));
      Api.Reply r = api.post("/api/v1/events/ingest", batch, Api.key(vars.get("K")));
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
    }
  }

  private static JsonObject signing(String type, Instant at) {
    return new JsonObject().put("event_type", type).put("key_id", "hot-wallet-eth").put("occurred_at", at.toString())
        .put("data", new JsonObject().put("ip", "10.20.0.11").put("actor", "tx-signer"));
  }

  /** The value the node answered where an earlier README answer shows the README's value. */
  private String bind(String readmeValue) {
    if (readmeValue.equals("$(cat data/admin-token)")) {
      return "test-admin-token";
    }
    for (int i = answers.size() - 1; i >= 0; i--) {
      List<Object> path = find(answers.get(i)[0], readmeValue);
      if (path != null) {
        Object value = answers.get(i)[1];
        for (Object step : path) {
          value = step instanceof String name ? ((JsonObject) value).getValue(name) : ((JsonArray) value).getValue((Integer) step);
        }
        return String.valueOf(value);
      }
    }
    throw new IllegalArgumentException("the README assigns " + readmeValue + ", which no earlier answer shows");
  }

  private static List<Object> find(Object json, String value) {
    if (json instanceof JsonObject o) {
      for (String name : o.fieldNames()) {
        List<Object> below = find(o.getValue(name), value);
        if (below != null) {
          below.add(0, name);
          return below;
        }
      }
    } else if (json instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        List<Object> below = find(a.getValue(i), value);
        if (below != null) {
          below.add(0, i);
          return below;
        }
      }
    } else if (json != null && String.valueOf(json).equals(value)) {
      return new ArrayList<>();
    }
    return null;
  }

  private Api.Reply send(CurlCommand curl) {
    if (!curl.url().startsWith(README_HOST)) {
      throw new IllegalArgumentException("the walkthrough calls " + README_HOST + ", not " + curl.url());
    }
    List<String> headers = new ArrayList<>();
    for (String header : curl.headers()) {
      int colon = header.indexOf(':');
      headers.add(header.substring(0, colon).trim());
      headers.add(header.substring(colon + 1).trim());
    }
    byte[] body = curl.body() == null ? null : curl.body().getBytes(StandardCharsets.UTF_8);
    return api.send(curl.method(), curl.url().substring(README_HOST.length()), null, body, headers.toArray(String[]::new));
  }

  /** An answer as the README shows it: with -i a status line and headers, then the body (or nothing). */
  private record Answer(Integer status, List<String> headers, Object body) {
    static Answer of(List<String> lines) {
      Integer status = null;
      List<String> headers = new ArrayList<>();
      int i = 0;
      Matcher statusLine = lines.isEmpty() ? null : STATUS_LINE.matcher(lines.get(0));
      if (statusLine != null && statusLine.matches()) {
        status = Integer.parseInt(statusLine.group(1));
        for (i = 1; i < lines.size() && !lines.get(i).isBlank(); i++) {
          headers.add(lines.get(i).substring(0, lines.get(i).indexOf(':')));
        }
      }
      String body = String.join("\n", lines.subList(i, lines.size())).trim();
      return new Answer(status, headers, body.isEmpty() ? null : JsonShapes.parseExample(body));
    }

    List<String> differences(Api.Reply reply) {
      List<String> found = new ArrayList<>();
      boolean success = !(body instanceof JsonObject o && Boolean.FALSE.equals(o.getValue("success")));
      if (status != null ? reply.status() != status : (reply.status() < 300) != success) {
        found.add("status " + reply.status() + ": " + reply.raw());
        return found;
      }
      headers.stream().filter(h -> reply.header(h) == null).forEach(h -> found.add("no " + h + " header"));
      if (body != null) {
        found.addAll(JsonShapes.differences(body, Json.decodeValue(reply.raw())));
      }
      return found;
    }
  }
}
