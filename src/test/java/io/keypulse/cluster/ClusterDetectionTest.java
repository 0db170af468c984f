package io.keypulse.cluster;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api;
import io.keypulse.testing.Cluster;
import io.keypulse.testing.Db;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Detector shards on a real cluster: three node processes, Hazelcast on loopback, one Postgres. */
@DisplayName("Detection on a cluster")
class ClusterDetectionTest {

  @Test
  @DisplayName("keys spread over the members and every event is detected once; a killed owner's key keeps its baseline")
  void spreadExactlyOnceAndFailover() {
    PgTarget pg = TestPostgres.freshDatabase();
    Db db = new Db(pg);
    try (Cluster cluster = new Cluster(pg, 3)) {
      Partner p = cluster.api(0).register("Cluster Partner");
      int events = 0;
      for (int round = 0; round < 6; round++) {
        JsonArray batch = new JsonArray();
        for (int k = 0; k < 60; k++) {
          batch.add(new JsonObject().put("event_type", "key_accessed").put("key_id", "spread-" + k));
        }
        for (int i = 0; i < batch.size(); i += 100) {
          assertThat(cluster.api(round % 3).post("/api/v1/events/ingest", new JsonObject().put("data", batch),
              key(p.apiKey())).status()).isEqualTo(202);
        }
        events += batch.size();
      }
      awaitUntil(() -> allDetected(db));
      List<JsonObject> detectors = IntStream.range(0, 3)
          .mapToObj(i -> cluster.view(i).getJsonObject("this_node").getJsonObject("detector")).toList();
      assertThat(detectors).as("every member holds keys").allMatch(d -> d.getLong("keys_held") > 0);
      assertThat(detectors.stream().mapToLong(d -> d.getLong("keys_held")).sum()).as("each key on one member")
          .isEqualTo(60);
      assertThat(detectors.stream().mapToLong(d -> d.getLong("events_detected")).sum()).as("each event once")
          .isEqualTo(events);

      // A week of history for one key, then its owner dies.
      String keyId = "custody-key";
      backfill(cluster.api(1), p, keyId);
      awaitUntil(() -> allDetected(db));
      int owner = cluster.nodeOf(cluster.owner(0, p.partnerId(), keyId).getString("member"));
      cluster.kill(owner);
      int survivor = owner == 0 ? 1 : 0;
      awaitUntil(() -> cluster.view(survivor).getJsonArray("members").size() == 2);

      JsonArray burst = new JsonArray();
      for (int i = 0; i < 90; i++) {
        burst.add(sign(keyId, Instant.now().minusSeconds(59 - i % 60)));
      }
      assertThat(cluster.api(survivor).post("/api/v1/events/ingest", new JsonObject().put("data", burst),
          key(p.apiKey())).status()).isEqualTo(202);
      JsonObject spike = awaitAlert(cluster.api(survivor), p, "key_id=" + keyId + "&rule=signing_volume_spike&severity=critical");
      assertThat(spike.getJsonObject("evidence").getDouble("baseline")).as("the week's baseline survived the owner")
          .isBetween(5.5, 6.1);
      assertThat(cluster.view(survivor).getJsonObject("this_node").getJsonObject("detector").getLong("keys_held"))
          .isPositive();
    }
  }

  @Test
  @DisplayName("a joining member takes over keys without losing or double counting their state; the scheduler moves when its node dies")
  void joinAndScheduler() {
    PgTarget pg = TestPostgres.freshDatabase();
    Db db = new Db(pg);
    try (Cluster cluster = new Cluster(pg, 2)) {
      Api api = cluster.api(0);
      Partner p = api.register("Join Partner");
      assertThat(api.post("/api/v1/thresholds", new JsonObject().put("name", "cap").put("event_type", "signing_operation")
          .put("threshold", 10).put("window", "24h").put("warn_at_pct", 80), key(p.apiKey())).status()).isEqualTo(201);
      ingestRound(cluster.api(1), p, 5);
      awaitUntil(() -> allDetected(db));

      int joined = cluster.join();
      awaitUntil(() -> cluster.view(joined).getJsonObject("this_node").getLong("partitions_owned") > 0);
      ingestRound(cluster.api(joined), p, 5);
      awaitUntil(() -> allDetected(db));
      awaitUntil(() -> db.count("SELECT count(*) FROM alerts WHERE rule = 'cap' AND severity = 'critical'") == 30);

      assertThat(db.count("SELECT count(*) FROM alerts WHERE rule = 'cap'")).as("one warning and one breach per key")
          .isEqualTo(60);
      assertThat(db.count("SELECT count(*) FROM alerts a WHERE rule = 'cap' AND severity = 'critical' AND "
          + "(evidence->>'current')::int = 10 AND event_id = (SELECT max(id) FROM events e WHERE e.key_id = a.key_id)"))
          .as("each breach raised by the key's 10th event").isEqualTo(30);
      assertThat(cluster.view(joined).getJsonObject("this_node").getJsonObject("detector").getLong("keys_held"))
          .as("the new member holds keys").isPositive();
      long detected = IntStream.range(0, 3).mapToLong(i -> cluster.view(i).getJsonObject("this_node")
          .getJsonObject("detector").getLong("events_detected")).sum();
      assertThat(detected).as("no event detected twice").isEqualTo(300);

      List<Integer> leaders = IntStream.range(0, 3)
          .filter(i -> cluster.view(i).getJsonObject("this_node").getBoolean("scheduler_leader")).boxed().toList();
      assertThat(leaders).hasSize(1);
      old(api, p, "stale-1");
      awaitUntil(() -> db.count("SELECT count(*) FROM alerts WHERE rule = 'rotation_overdue'") == 1);
      cluster.kill(leaders.get(0));
      int next = leaders.get(0) == 0 ? 1 : 0;
      awaitUntil(() -> cluster.view(next).getJsonArray("members").size() == 2);
      awaitUntil(() -> IntStream.range(0, 3).filter(cluster::alive)
          .filter(i -> cluster.view(i).getJsonObject("this_node").getBoolean("scheduler_leader")).count() == 1);
      old(cluster.api(next), p, "stale-2");
      awaitUntil(() -> db.count("SELECT count(*) FROM alerts WHERE rule = 'rotation_overdue'") == 2);
      assertThat(db.count("SELECT count(*) FROM alerts WHERE rule = 'rotation_overdue' AND key_id = 'stale-1'"))
          .as("once, though every member runs a scheduler").isEqualTo(1);
    }
  }

  @Test
  @DisplayName("an owner killed mid-burst: its successor replays the burst and raises no alert the key had already raised")
  void noStormAfterFailover() {
    PgTarget pg = TestPostgres.freshDatabase();
    Db db = new Db(pg);
    try (Cluster cluster = new Cluster(pg, 2)) {
      Partner p = cluster.api(0).register("Failover Partner");
      String keyId = "burst-key";
      backfill(cluster.api(0), p, keyId);
      awaitUntil(() -> allDetected(db));
      int owner = cluster.nodeOf(cluster.owner(0, p.partnerId(), keyId).getString("member"));
      int survivor = 1 - owner;
      JsonArray first = new JsonArray();
      for (int i = 0; i < 80; i++) {
        first.add(sign(keyId, Instant.now().minusSeconds(70 - i / 2)));
      }
      assertThat(cluster.api(owner).post("/api/v1/events/ingest", new JsonObject().put("data", first),
          key(p.apiKey())).status()).isEqualTo(202);
      awaitAlert(cluster.api(owner), p, "key_id=" + keyId + "&rule=signing_volume_spike&severity=critical");
      // Killed before its next checkpoint: the successor starts from the one taken before the burst.
      cluster.kill(owner);
      awaitUntil(() -> cluster.view(survivor).getJsonArray("members").size() == 1);
      JsonArray more = new JsonArray();
      for (int i = 0; i < 40; i++) {
        more.add(sign(keyId, Instant.now().minusSeconds(20 - i / 2)));
      }
      assertThat(cluster.api(survivor).post("/api/v1/events/ingest", new JsonObject().put("data", more),
          key(p.apiKey())).status()).isEqualTo(202);
      awaitUntil(() -> allDetected(db));
      assertThat(db.count("SELECT count(*) FROM alerts WHERE key_id = '" + keyId + "'")).as("one incident").isEqualTo(1);
      assertThat(db.count("SELECT count(*) FROM alerts WHERE key_id = '" + keyId + "' AND severity = 'critical' "
          + "AND escalated_from = 'warning' AND repeat_count >= 40")).as("escalated once, the rest counted").isEqualTo(1);
    }
  }

  /** Every key checkpointed up to its last event. */
  private static boolean allDetected(Db db) {
    return db.count("SELECT count(*) FROM keys k LEFT JOIN detector_state d ON d.owner = 'k:' || k.partner_id "
        + "|| '/' || k.key_id WHERE k.last_event_id > coalesce(d.last_event_id, 0)") == 0;
  }

  private static void ingestRound(Api api, Partner p, int perKey) {
    JsonArray batch = new JsonArray();
    for (int k = 0; k < 30; k++) {
      for (int i = 0; i < perKey; i++) {
        batch.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "moving-" + k));
      }
      if (batch.size() >= 100 || k == 29) {
        assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
            .isEqualTo(202);
        batch = new JsonArray();
      }
    }
  }

  private static void old(Api api, Partner p, String keyId) {
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_created").put("key_id", keyId)
        .put("occurred_at", Instant.now().minus(100, ChronoUnit.DAYS).toString()), key(p.apiKey()));
  }

  private static void backfill(Api api, Partner p, String keyId) {
    Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    JsonArray batch = new JsonArray();
    for (int h = 168; h >= 2; h--) {
      for (int i = 0; i < 6; i++) {
        batch.add(sign(keyId, hour.minus(h, ChronoUnit.HOURS).plus(10L * i, ChronoUnit.MINUTES)));
        if (batch.size() == 100) {
          assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
              .isEqualTo(202);
          batch = new JsonArray();
        }
      }
    }
    api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey()));
  }

  private static JsonObject sign(String keyId, Instant at) {
    return new JsonObject().put("event_type", "signing_operation").put("key_id", keyId).put("occurred_at", at.toString())
        .put("data", new JsonObject().put("ip", "10.0.0.5").put("actor", "tx-processor"));
  }

  private static JsonObject awaitAlert(Api api, Partner p, String query) {
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      JsonArray alerts = api.get("/api/alerts?" + query, key(p.apiKey())).array("alerts");
      if (!alerts.isEmpty()) {
        return alerts.getJsonObject(0);
      }
      pause();
    }
    throw new AssertionError("no alert for " + query);
  }

  private static void awaitUntil(BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + 45_000;
    while (!condition.getAsBoolean()) {
      assertThat(System.currentTimeMillis()).as("condition met in time").isLessThan(deadline);
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
