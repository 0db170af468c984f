package io.keypulse.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.testing.Db;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The flush transaction")
class EventWriterTest {

  @Test
  @DisplayName("a flush that fails commits nothing, and the pipelined connection serves the next flush")
  void failedFlushRollsBack() {
    Db db = Db.migratedWithPartner("p_w");
    PgTarget pg = db.target();
    Vertx vertx = Vertx.vertx();
    try {
      // One connection: the flush after the failed one reuses it.
      Pool pool = Pools.write(vertx, new Config.Pg(pg.url(), 0, List.of(), 1, 1, 2000, 3000, 1000, 1000, 30000), pg);
      EventWriter writer = new EventWriter(pool, 1, "node-a", 30);
      Future<EventWriter.Flushed> failed = writer.append(List.of(event("k1", "nominal"), event("k2", "not-a-severity")));
      assertThat(failed.toCompletionStage().toCompletableFuture()).failsWithin(Duration.ofSeconds(10));
      assertThat(db.count("SELECT count(*) FROM events")).isZero();
      assertThat(db.count("SELECT count(*) FROM keys")).isZero();

      List<StoredEvent> stored = writer.append(List.of(event("k1", "nominal"), event("k1", "warning"))).await().stored();
      assertThat(stored).hasSize(2);
      assertThat(stored.get(0).previousId()).isZero();
      assertThat(stored.get(1).previousId()).isEqualTo(stored.get(0).id());
      List<StoredEvent> next = writer.append(List.of(event("k1", "nominal"))).await().stored();
      assertThat(next.get(0).previousId()).as("the key's last event before this flush").isEqualTo(stored.get(1).id());
      assertThat(db.count("SELECT count(*) FROM events")).isEqualTo(3);
      assertThat(db.count("SELECT event_count FROM keys WHERE key_id = 'k1'")).isEqualTo(3);

      // Rule matches come back with their outbox rows, committed as this node's claims.
      db.execute("INSERT INTO rules (partner_id, name, event_type_match, webhook_url, severity) VALUES "
          + "('p_w', 'all', '*', 'https://Hooks.Example:8443/a?x=1', 'warning'), "
          + "('p_w', 'signs', 'sign', 'https://other.example/b', 'warning')");
      EventWriter.Flushed flushed = writer.append(List.of(event("k2", "nominal"), event("k3", "nominal"))).await();
      assertThat(flushed.stored()).extracting(StoredEvent::ruleMatches).containsExactly(2, 2);
      assertThat(flushed.matched()).extracting(EventWriter.Matched::index).containsExactly(0, 0, 1, 1);
      assertThat(flushed.matched()).extracting(EventWriter.Matched::endpoint)
          .containsExactly("https://hooks.example:8443", "https://other.example", "https://hooks.example:8443",
              "https://other.example");
      EventWriter.Matched first = flushed.matched().get(0);
      assertThat(db.count("SELECT count(*) FROM deliveries WHERE id = " + first.rowId() + " AND delivery_id::text = '"
          + first.deliveryId() + "' AND event_id = " + flushed.stored().get(0).id() + " AND url = '" + first.url() + "'"))
          .isEqualTo(1);
      assertThat(db.count("SELECT count(*) FROM deliveries WHERE claimed_by = 'node-a' "
          + "AND claim_until BETWEEN now() + interval '25 seconds' AND now() + interval '31 seconds'")).isEqualTo(4);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  @DisplayName("flushes on two connections commit in the order they drew their ids, however long the first takes")
  void commitsInIdOrder() throws Exception {
    Db db = Db.migratedWithPartner("p_w");
    PgTarget pg = db.target();
    // The events of key "slow" take 1 s to insert: the first flush is still inserting when the second is done.
    db.execute("CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); "
        + "IF NEW.details->>'fail' = 'yes' THEN RAISE EXCEPTION 'drill'; END IF; RETURN NEW; END $$");
    db.execute("CREATE TRIGGER slow_insert BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.key_id = 'slow') "
        + "EXECUTE FUNCTION slow_insert()");
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = Pools.write(vertx, new Config.Pg(pg.url(), 0, List.of(), 1, 3, 2000, 3000, 1000, 1000, 30000), pg);
      EventWriter writer = new EventWriter(pool, 2, "node-a", 30);
      long before = writer.append(List.of(event("fast", "nominal"))).await().stored().get(0).id();

      var first = writer.append(List.of(event("slow", "nominal"))).toCompletionStage().toCompletableFuture();
      var second = writer.append(List.of(event("fast", "nominal"), event("fast", "nominal")))
          .toCompletionStage().toCompletableFuture();
      Thread.sleep(600);
      assertThat(second).as("the second flush, waiting for the first").isNotDone();
      assertThat(db.count("SELECT count(*) FROM events")).as("events committed meanwhile").isEqualTo(1);

      long slow = first.get(10, TimeUnit.SECONDS).stored().get(0).id();
      List<StoredEvent> fast = second.get(10, TimeUnit.SECONDS).stored();
      assertThat(slow).isGreaterThan(before);
      assertThat(fast).extracting(StoredEvent::id).containsExactly(slow + 1, slow + 2);
      assertThat(fast.get(0).previousId()).as("the key's previous event, committed before").isEqualTo(before);
      assertThat(db.count("SELECT event_count FROM keys WHERE key_id = 'fast'")).isEqualTo(3);

      // A first flush that fails after its wait-free part: the second still commits, once it has ended.
      var failing = writer.append(List.of(new NewEvent("p_w", "slow", "signing_operation", "sign", "nominal", false, null,
          null, new JsonObject().put("fail", "yes"), null, null))).toCompletionStage().toCompletableFuture();
      var after = writer.append(List.of(event("fast", "nominal"))).toCompletionStage().toCompletableFuture();
      assertThat(failing).failsWithin(Duration.ofSeconds(10));
      assertThat(after.get(10, TimeUnit.SECONDS).stored().get(0).previousId()).isEqualTo(fast.get(1).id());
      assertThat(db.count("SELECT count(*) FROM events")).isEqualTo(5);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  @DisplayName("a flush that rolls back before its wait does not let the one after it overtake the one before it")
  void earlyRollbackKeepsTheOrder() throws Exception {
    Db db = Db.migratedWithPartner("p_w");
    PgTarget pg = db.target();
    db.execute("CREATE FUNCTION slow_or_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.key_id = 'bad' THEN RAISE EXCEPTION 'drill'; END IF; PERFORM pg_sleep(1); RETURN NEW; END $$");
    db.execute("CREATE TRIGGER slow_or_bad BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.key_id IN ('slow', 'bad')) "
        + "EXECUTE FUNCTION slow_or_bad()");
    Vertx vertx = Vertx.vertx();
    try {
      // Three connections: each flush on its own, so only the tickets keep the third behind the first.
      Pool pool = Pools.write(vertx, new Config.Pg(pg.url(), 0, List.of(), 1, 4, 2000, 3000, 1000, 1000, 30000), pg);
      EventWriter writer = new EventWriter(pool, 3, "node-a", 30);
      writer.append(List.of(event("warm", "nominal"))).await();
      writer.append(List.of(event("warm", "nominal"))).await();
      writer.append(List.of(event("warm", "nominal"))).await();

      var slow = writer.append(List.of(event("slow", "nominal"))).toCompletionStage().toCompletableFuture();
      var bad = writer.append(List.of(event("bad", "nominal"))).toCompletionStage().toCompletableFuture();
      var fast = writer.append(List.of(event("fast", "nominal"))).toCompletionStage().toCompletableFuture();
      assertThat(bad).failsWithin(Duration.ofSeconds(5));
      Thread.sleep(400);
      assertThat(slow).as("the first flush, still inserting").isNotDone();
      assertThat(fast).as("the third flush, waiting for the first, not only for the rolled-back second").isNotDone();
      assertThat(db.count("SELECT count(*) FROM events WHERE key_id = 'fast'")).isZero();

      long first = slow.get(10, TimeUnit.SECONDS).stored().get(0).id();
      assertThat(fast.get(10, TimeUnit.SECONDS).stored().get(0).id()).isGreaterThan(first + 1);
      assertThat(db.count("SELECT count(*) FROM events")).isEqualTo(5);
      assertThat(db.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
          + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
          .as("advisory locks left held once the flushes ended").isZero();
    } finally {
      vertx.close().await();
    }
  }

  private static NewEvent event(String keyId, String severity) {
    return new NewEvent("p_w", keyId, "signing_operation", "sign", severity, false, null, null, new JsonObject(), null, null);
  }
}
