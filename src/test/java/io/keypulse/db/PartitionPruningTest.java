package io.keypulse.db;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api;
import io.keypulse.testing.Db;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every query the API runs for a partner reads only the weeks it needs. Postgres's auto_explain
 * logs the plan of every statement a real node executes while a partner pages events, filters them,
 * lists keys and alerts, reads stats and a key's chart; no plan may touch the legacy partition or a
 * week older than the ones asked about, though twelve weeks of older rows are there.
 */
@DisplayName("Partition pruning: the API's queries read only the weeks they ask about")
class PartitionPruningTest {
  /**
   * The delivery actors' own statements (claiming due rows, the outbox depth gauge) look at every
   * week's partial index of pending rows, a page or two each: they are not a partner's query.
   */
  private static final Pattern INTERNAL = Pattern.compile("SKIP LOCKED|AS depth|claim_until < now\\(\\)");
  /** An entry: "duration: … plan:" and its JSON, up to the next line of the log (which starts with its time). */
  private static final Pattern ENTRY =
      Pattern.compile("duration: [0-9.]+ ms  plan:\\s*\\n(.*?)(?=\\n[0-9]{4}-[0-9]{2}-[0-9]{2} |\\z)", Pattern.DOTALL);

  @Test
  @DisplayName("event pages (newest and filtered), keys, alerts, stats and the chart read this week's partitions only")
  void apiQueriesPrune() throws Exception {
    EmbeddedPostgres server = TestPostgres.dedicatedServer();
    try {
      PgTarget pg = server.target();
      Migrations.apply(pg);
      Db db = new Db(pg);
      long week = Weeks.week(Instant.now());
      // Twelve weeks of history before this one, below them the legacy partition.
      for (String table : List.of("events", "alerts", "deliveries", "delivery_attempts")) {
        db.execute("ALTER TABLE " + table + " DETACH PARTITION " + table + "_legacy");
        db.execute("DROP TABLE " + table + "_legacy");
        db.execute("CREATE TABLE " + table + "_legacy PARTITION OF " + table + " FOR VALUES FROM (MINVALUE) TO ("
            + Weeks.base(week - 12) + ")");
        for (long w = week - 12; w < week; w++) {
          db.execute("CREATE TABLE " + table + "_w" + w + " PARTITION OF " + table + " FOR VALUES FROM ("
              + Weeks.base(w) + ") TO (" + Weeks.base(w + 1) + ")");
        }
      }
      db.execute("ALTER SYSTEM SET session_preload_libraries = 'auto_explain'");
      db.execute("ALTER SYSTEM SET auto_explain.log_min_duration = 0");
      db.execute("ALTER SYSTEM SET auto_explain.log_format = 'json'");
      db.execute("ALTER SYSTEM SET auto_explain.log_nested_statements = on");
      // With actual row counts: a partition a plan lists but never ran (pruned as it ran) is not read.
      db.execute("ALTER SYSTEM SET auto_explain.log_analyze = on");
      db.execute("SELECT pg_reload_conf()");

      Map<String, Object> settings = TestNode.defaults(pg, "pruning-" + week);
      settings.put("webhook.allowed_cidrs", "127.0.0.0/8");
      try (KeyPulseNode node = TestNode.start(settings)) {
        Api api = new Api(node.port());
        Partner p = api.register("Pruned");
        // A rule on every event, so that this week holds a page of deliveries too (to a closed port).
        assertThat(api.post("/api/v1/rules", new JsonObject().put("name", "all").put("event_type_match", "*")
            .put("severity", "warning").put("webhook_url", "http://127.0.0.1:" + TestNode.freePort() + "/closed"), key(p.apiKey())).status())
            .isEqualTo(201);
        JsonArray batch = new JsonArray();
        for (int i = 0; i < 60; i++) {
          batch.add(new JsonObject().put("event_type", i % 10 == 0 ? "policy_violation" : "signing_operation")
              .put("key_id", "k" + (i % 3)).put("severity", i % 10 == 0 ? "critical" : "nominal"));
        }
        assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
            .isEqualTo(202);
        // Old rows of the same partner in every older week and in the legacy partition.
        for (long w = week - 13; w < week; w++) {
          long id = w < week - 12 ? 1000 + (week - w) : Weeks.base(w) + 1;
          Instant at = w < week - 12 ? Instant.now().minus(Duration.ofDays(120)) : Weeks.start(w).plusSeconds(3600);
          db.execute("INSERT INTO events (id, partner_id, key_id, event_type, canonical_type, severity, details, "
              + "occurred_at, created_at) VALUES (" + id + ", '" + p.partnerId() + "', 'k1', 'signing_operation', 'sign', "
              + "'critical', '{}', '" + at + "', '" + at + "')");
          db.execute("INSERT INTO alerts (id, partner_id, key_id, rule, kind, severity, description, evidence, "
              + "triggered_at, created_at) VALUES (" + id + ", '" + p.partnerId() + "', 'k1', 'r', 'anomaly_detected', "
              + "'warning', 'd', '{\"baseline\":null,\"observed\":\"x\",\"threshold\":\"y\",\"window\":\"event\"}', '"
              + at + "', '" + at + "')");
        }
        Sleep.millis(1500);  // detection of the batch done: its statements are not the ones we look at

        Path log = server.dataDir().resolve("postgres").resolve("postgres.log");
        long from = Files.size(log);
        String since = Instant.now().minus(Duration.ofDays(2)).toString();
        // Pages this week's rows fill (60 events and their webhooks, a dozen alerts), a filter from two days
        // ago, and the chart's eight days.
        List<String> paths = List.of("/api/events?limit=20", "/api/events?limit=5&key_id=k1&severity=critical&since="
            + since, "/api/keys", "/api/alerts?limit=5", "/api/stats", "/api/keys/k1/activity",
            "/api/v1/webhooks/deliveries?limit=20");
        for (String path : paths) {
          assertThat(api.get(path, key(p.apiKey())).status()).as(path).isEqualTo(200);
        }
        Sleep.millis(500);
        String plans = Files.readString(log).substring((int) from);

        // The oldest week any of these asks about: the chart's eight days, the filter's two, and the
        // future-skew and week-turn margins before them.
        long oldestAsked = Weeks.week(Instant.now().minus(Duration.ofDays(8)).minus(Duration.ofHours(2)));
        TreeSet<String> allowed = new TreeSet<>();
        for (String table : List.of("events", "alerts", "deliveries", "delivery_attempts")) {
          for (long w = oldestAsked; w <= week + 2; w++) {
            allowed.add(table + "_w" + w);
          }
        }
        List<String> offenders = new ArrayList<>();
        int partitionedPlans = 0;
        for (JsonObject explained : plans(plans)) {
          String query = explained.getString("Query Text", "");
          if (INTERNAL.matcher(query).find()) {
            continue;
          }
          TreeSet<String> read = new TreeSet<>();
          TreeSet<String> planned = new TreeSet<>();
          relations(explained.getJsonObject("Plan"), read, planned);
          if (planned.stream().noneMatch(PartitionPruningTest::partition)) {
            continue;
          }
          partitionedPlans++;
          read.removeIf(r -> allowed.contains(r) || !partition(r));
          if (!read.isEmpty()) {
            offenders.add(read + " read by: " + query);
          }
        }
        assertThat(partitionedPlans).as("plans of queries on partitioned tables were logged").isGreaterThanOrEqualTo(5);
        assertThat(offenders).as("queries that read weeks they did not ask about").isEmpty();
      }
    } finally {
      server.stop();
    }
  }

  private static boolean partition(String relation) {
    return relation.matches(".*_(w[0-9]+|legacy)$");
  }

  /** auto_explain's JSON plans in a stretch of the server log. */
  private static List<JsonObject> plans(String log) {
    List<JsonObject> out = new ArrayList<>();
    Matcher m = ENTRY.matcher(log);
    while (m.find()) {
      out.add(new JsonObject(m.group(1)));
    }
    return out;
  }

  /** Relations of a plan tree: every one planned, and those its scan actually ran on. */
  private static void relations(JsonObject node, TreeSet<String> read, TreeSet<String> planned) {
    String relation = node.getString("Relation Name");
    if (relation != null) {
      planned.add(relation);
      if (node.getDouble("Actual Loops", 0.0) > 0) {
        read.add(relation);
      }
    }
    JsonArray children = node.getJsonArray("Plans", new JsonArray());
    for (int i = 0; i < children.size(); i++) {
      relations(children.getJsonObject(i), read, planned);
    }
  }
}
