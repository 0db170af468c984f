package io.keypulse.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.Committed;
import io.keypulse.bus.DetectEvents;
import io.keypulse.bus.EventFacts;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Db;
import io.keypulse.testing.Load;
import io.keypulse.testing.Metrics;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Flushes in flight (store.flushes_in_flight) are released in id order: the detector shards and the
 * live feed hear of a flush only once every flush sent before it has committed or failed. The delay
 * and the failure are made at COMMIT, by deferred triggers on the events of one key.
 */
@DisplayName("Group commits in flight, released in id order")
class FlushReleaseTest {
  private static final String INGEST = "/api/v1/events/ingest";

  /** What the consumers saw, in the order they saw it. */
  private static final class Seen {
    final List<Long> live = new CopyOnWriteArrayList<>();
    final Map<String, List<Long>> shards = new ConcurrentHashMap<>();

    Seen(KeyPulseNode node) {
      node.vertx().eventBus().<Committed>localConsumer(Addresses.EVENTS_COMMITTED,
          m -> m.body().events().forEach(e -> live.add(e.id())));
      node.vertx().eventBus().addOutboundInterceptor((DeliveryContext<Object> ctx) -> {
        if (ctx.body() instanceof DetectEvents detect && !detect.forwarded()) {
          List<Long> ids = shards.computeIfAbsent(ctx.message().address(), a -> new CopyOnWriteArrayList<>());
          detect.events().stream().map(EventFacts::id).forEach(ids::add);
        }
        ctx.next();
      });
    }
  }

  private static Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "release-" + UUID.randomUUID());
    s.put("store.flushes_in_flight", 4);
    // Besides a flush in flight, only full ones go out: small ones here, so that they do behind a held-up commit.
    s.put("store.flush_max_events", 4);
    return s;
  }

  /** A trigger that runs at COMMIT for the events of one key. */
  private static void atCommit(Db db, String keyId, String body) {
    String name = "at_commit_" + keyId.replaceAll("[^a-z]", "_");
    db.execute("CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + body
        + "; RETURN NULL; END $$");
    db.execute("CREATE CONSTRAINT TRIGGER " + name + " AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED "
        + "FOR EACH ROW WHEN (NEW.key_id = '" + keyId + "') EXECUTE FUNCTION " + name + "()");
  }

  /** A fresh node whose events of one key run {@code atCommit} at COMMIT, a partner, and what its consumers see. */
  private static final class Drill implements AutoCloseable {
    final PgTarget pg = TestPostgres.freshDatabase();
    final KeyPulseNode node = TestNode.start(settings(pg));
    final Db db = new Db(pg);
    final Api api = new Api(node.port());
    final String key;
    final Seen seen;

    Drill(String keyId, String atCommit, String partner) {
      atCommit(db, keyId, atCommit);
      key = api.register(partner).apiKey();
      seen = new Seen(node);
    }

    /** One event of that key, sent now; answered once its flush is. */
    CompletableFuture<Reply> send(String keyId) {
      return CompletableFuture.supplyAsync(() -> api.post(INGEST, event(keyId, 0), Api.key(key)));
    }

    Load load(String keyPrefix, long seqFrom) {
      return new Load(node.port(), INGEST, key, n -> event(keyPrefix + (n % 5), seqFrom + n));
    }

    @Override
    public void close() {
      node.close();
    }
  }

  @Test
  @DisplayName("while one flush's commit is held up, later flushes are sent; no consumer sees a higher id first")
  void delayedCommit() throws Exception {
    try (Drill drill = new Drill("slow", "PERFORM pg_sleep(1.5)", "Held Up")) {
      CompletableFuture<Reply> slow = drill.send("slow");
      Thread.sleep(200);
      Load load = drill.load("k", 0);
      CompletableFuture<Void> rest = load.run(32, 300);
      int inFlight = 0;
      while (!slow.isDone()) {
        inFlight = Math.max(inFlight, (int) Metrics.sum(drill.api.get("/metrics").raw(), "keypulse_store_flushes_in_flight"));
        Thread.sleep(50);
      }
      rest.join();

      assertThat(slow.get().status()).as(slow.get().raw()).isEqualTo(202);
      assertThat(load.outcomes()).hasSize(300).allMatch(o -> o.status() == 202);
      assertThat(inFlight).as("flushes in flight while the first commit was held up").isGreaterThan(1);
      assertReleasedInOrder(drill.db, drill.seen);
    }
  }

  @Test
  @DisplayName("a flush that fails at COMMIT among others: its requests get 503, later ones succeed, nothing is released twice")
  void failedFlushInTheMiddle() throws Exception {
    // Slow first, so that flushes queue behind it; then fail, as Postgres does when it shuts down.
    try (Drill drill = new Drill("fail", "PERFORM pg_sleep(0.5); RAISE EXCEPTION 'drill' USING ERRCODE = '57P03'",
        "Failed Flush")) {
      Db db = drill.db;
      Load before = drill.load("b", 0);
      before.run(8, 40).join();
      CompletableFuture<Reply> failing = drill.send("fail");
      Thread.sleep(150);
      Load during = drill.load("d", 1000);
      during.run(16, 200).join();
      Reply failed = failing.get();
      Load after = drill.load("a", 2000);
      after.run(8, 40).join();

      assertThat(failed.status()).as(failed.raw()).isEqualTo(503);
      assertThat(db.count("SELECT count(*) FROM events WHERE key_id = 'fail'")).isZero();
      assertThat(before.outcomes()).allMatch(o -> o.status() == 202);
      assertThat(after.outcomes()).allMatch(o -> o.status() == 202);
      // Requests that shared the failed flush were refused with it, and stored nothing; the rest stored once.
      assertThat(during.outcomes()).allMatch(o -> o.status() == 202 || o.status() == 503);
      assertThat(during.outcomes().stream().filter(o -> o.status() == 202).count())
          .as("requests sent while the failing flush was in flight that were stored").isGreaterThan(150);
      List<String> expected = new ArrayList<>();
      before.outcomes().forEach(o -> expected.add(Long.toString(o.seq())));
      during.outcomes().stream().filter(o -> o.status() == 202).forEach(o -> expected.add(Long.toString(1000 + o.seq())));
      after.outcomes().forEach(o -> expected.add(Long.toString(2000 + o.seq())));
      assertThat(db.<String>column("SELECT details->>'seq' FROM events")).containsExactlyInAnyOrderElementsOf(expected);
      assertReleasedInOrder(db, drill.seen);
    }
  }

  /** Every stored event reached the live feed and its shard exactly once, each in increasing id order. */
  private static void assertReleasedInOrder(Db db, Seen seen) throws InterruptedException {
    List<Long> stored = db.column("SELECT id FROM events ORDER BY id");
    long deadline = System.currentTimeMillis() + 10_000;
    while (seen.live.size() < stored.size() && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertThat(seen.live).as("ids the live feed heard of, in order").isEqualTo(stored);
    List<Long> toShards = new ArrayList<>();
    seen.shards.forEach((shard, ids) -> {
      assertThat(ids).as("ids sent to " + shard).isSorted().doesNotHaveDuplicates();
      toShards.addAll(ids);
    });
    assertThat(toShards).as("ids sent to the shards").containsExactlyInAnyOrderElementsOf(stored);
  }

  private static JsonObject event(String keyId, long seq) {
    return new JsonObject().put("key_id", keyId).put("event_type", "signing_operation")
        .put("data", new JsonObject().put("seq", seq));
  }
}
