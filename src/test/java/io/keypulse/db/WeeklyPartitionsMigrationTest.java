package io.keypulse.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Db;
import io.keypulse.testing.TestPostgres;
import java.time.Instant;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("V15: a database written by the previous release keeps every row in weekly partitions")
class WeeklyPartitionsMigrationTest {
  private static final List<String> TABLES = List.of("events", "alerts", "deliveries", "delivery_attempts");

  @Test
  @DisplayName("counts and ids equal after the migration; old rows in the legacy partition, new ones in this week's, "
      + "with ids from this week's base")
  void keepsEveryRow() {
    PgTarget pg = TestPostgres.freshDatabase();
    Flyway.configure().dataSource(pg.jdbcUrl(), pg.user(), pg.password()).locations("classpath:db/migration")
        .target("14").skipDefaultCallbacks(true).load().migrate();
    Db db = new Db(pg);
    // The previous release's rows, as it wrote them (identity ids, every kind of row).
    db.execute("INSERT INTO partners (id, name, webhook_secret_enc) VALUES ('p_old', 'old', '\\x00'), ('p_two', 't', '\\x00')");
    db.execute("""
        INSERT INTO events (partner_id, key_id, event_type, canonical_type, severity, details, occurred_at, created_at)
        SELECT CASE WHEN g % 3 = 0 THEN 'p_two' ELSE 'p_old' END, 'k' || (g % 17), 'signing_operation', 'sign',
               'nominal', '{"n": 1.50}', now() - make_interval(hours => g), now() - make_interval(hours => g)
        FROM generate_series(1, 500) g""");
    db.execute("""
        INSERT INTO alerts (partner_id, key_id, rule, kind, severity, description, evidence, event_id, triggered_at)
        SELECT 'p_old', 'k1', 'new_source', 'anomaly_detected', 'warning', 'd', '{}', id, now()
        FROM events WHERE partner_id = 'p_old' ORDER BY id LIMIT 40""");
    db.execute("""
        INSERT INTO deliveries (partner_id, alert_id, event_id, event, url, status)
        SELECT partner_id, id, event_id, kind, 'https://r.example/h', 'delivered' FROM alerts""");
    db.execute("""
        INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, latency_ms, node)
        SELECT id, 1, now(), 200, 5, 'n1' FROM deliveries""");
    long[] before = counts(db);
    List<Long> eventIds = db.column("SELECT id FROM events ORDER BY id");
    List<Long> alertIds = db.column("SELECT id FROM alerts ORDER BY id");
    String details = db.column("SELECT details::text FROM events ORDER BY id LIMIT 1").get(0).toString();

    Migrations.apply(pg);

    assertThat(counts(db)).as("rows per table").containsExactly(before);
    assertThat(db.<Long>column("SELECT id FROM events ORDER BY id")).isEqualTo(eventIds);
    assertThat(db.<Long>column("SELECT id FROM alerts ORDER BY id")).isEqualTo(alertIds);
    assertThat(db.column("SELECT details::text FROM events ORDER BY id LIMIT 1").get(0)).isEqualTo(details);
    for (String table : TABLES) {
      assertThat(db.count("SELECT count(*) FROM " + table + "_legacy")).as(table + " legacy").isEqualTo(
          before[TABLES.indexOf(table)]);
      assertThat(db.count("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
          + "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = '" + table + "'"))
          .as(table + ": legacy, this week and two ahead").isEqualTo(4);
    }
    assertThat(db.count("SELECT count(*) FROM delivery_attempts WHERE partner_id = 'p_old'")).isEqualTo(40);

    // New rows take this week's ids, and go to this week's partition.
    long base = Weeks.base(Weeks.week(Instant.now()));
    db.execute("SELECT keypulse_week_jump('events_id_seq')");
    db.execute("INSERT INTO events (partner_id, key_id, event_type, severity, details, occurred_at, created_at) "
        + "VALUES ('p_old', 'k1', 'x', 'nominal', '{}', now(), now())");
    db.execute("INSERT INTO alerts (partner_id, key_id, rule, kind, severity, description, evidence, triggered_at) "
        + "VALUES ('p_old', 'k1', 'r', 'anomaly_detected', 'warning', 'd', '{}', now())");
    long week = Weeks.week(Instant.now());
    assertThat(db.count("SELECT count(*) FROM events_w" + week + " WHERE id >= " + base)).isEqualTo(1);
    assertThat(db.count("SELECT count(*) FROM alerts_w" + week + " WHERE id >= " + base)).isEqualTo(1);
    assertThat(db.count("SELECT max(id) FROM events")).isGreaterThan(eventIds.get(eventIds.size() - 1))
        .isLessThan(1L << 53);
  }

  private static long[] counts(Db db) {
    return TABLES.stream().mapToLong(t -> db.count("SELECT count(*) FROM " + t)).toArray();
  }
}
