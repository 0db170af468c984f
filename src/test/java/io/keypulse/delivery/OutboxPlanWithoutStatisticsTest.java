package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.Weeks;
import io.keypulse.testing.Db;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A week's partition spends part of its life without column statistics: all of it until autovacuum
 * first analyzes it, and the moment between autovacuum's vacuum of it (which sets its row count)
 * and the analyze that follows. Under scripts/bench webhooks that moment cost 40-200 ms per recorded
 * batch (a sequential scan of the partition, back to back for half a second) and the catch-up
 * lookups of events 110-190 ms each: the planner's default guesses made every id look common. The
 * delivery actors' lookups by id must stay probes of an index in that state.
 */
@DisplayName("The outbox's lookups by id on a week without statistics")
class OutboxPlanWithoutStatisticsTest {
  private static final int ROWS = 20_000;
  /** A batch of recorded attempts as seen under load. */
  private static final int BATCH = 276;

  @Test
  @DisplayName("recording attempts and renewing claims read deliveries by id, not the whole partition")
  void deliveriesById() throws Exception {
    Db db = Db.migratedWithPartner("p_nostats");
    String partition = thisWeekUnanalyzed(db, "deliveries");
    db.execute("INSERT INTO deliveries (partner_id, event, url, payload, status, claimed_by) SELECT 'p_nostats', "
        + "'test', 'http://127.0.0.1:9/hook', '{}', 'pending', 'node' FROM generate_series(1, " + ROWS + ")");
    db.execute("VACUUM " + partition);
    String ids = db.<String>column("SELECT string_agg(id::text, ',') FROM (SELECT id FROM deliveries "
        + "ORDER BY id DESC LIMIT " + BATCH + ") x").get(0);
    String n = Integer.toString(BATCH);
    String recordArgs = "'{" + ids + "}', array_fill(1, ARRAY[" + n + "]), array_fill(now(), ARRAY[" + n + "]), "
        + "array_fill(200, ARRAY[" + n + "]), array_fill(3, ARRAY[" + n + "]), array_fill(NULL::text, ARRAY[" + n + "]), "
        + "array_fill('delivered'::text, ARRAY[" + n + "]), array_fill(now(), ARRAY[" + n + "]), 'node', "
        + "array_fill('p_nostats'::text, ARRAY[" + n + "])";

    String plan = plans(db,
        "PREPARE record(bigint[], int[], timestamptz[], int[], int[], text[], text[], timestamptz[], text, text[]) AS "
            + Outbox.RECORD,
        "EXPLAIN EXECUTE record(" + recordArgs + ")",
        "PREPARE renew(bigint[], text, int) AS " + Outbox.RENEW,
        "EXPLAIN EXECUTE renew('{" + ids + "}', 'node', 60)");
    assertThat(plan).as("the plans name this week's partition").contains(partition)
        .doesNotContain("Seq Scan on " + partition + " ");
  }

  @Test
  @DisplayName("the events of claimed rule matches are found by their primary key, not by their partner's keys")
  void eventsByPrimaryKey() throws Exception {
    Db db = Db.migratedWithPartner("p_nostats_ev");
    String partition = thisWeekUnanalyzed(db, "events");
    db.execute("SELECT keypulse_claim_event_ids(1)"); // as a flush does: ids from this week's base on
    db.execute("INSERT INTO events (partner_id, key_id, event_type, canonical_type, severity, details, occurred_at, "
        + "created_at) SELECT 'p_nostats_ev', 'k' || (g % 1000), 'key.signed', 'sign', 'nominal', '{}', now(), now() "
        + "FROM generate_series(1, " + ROWS + ") g");
    db.execute("VACUUM " + partition);
    String ids = db.<String>column("SELECT string_agg(id::text, ',') FROM (SELECT id FROM events "
        + "WHERE partner_id = 'p_nostats_ev' ORDER BY id DESC LIMIT 1000) x").get(0);

    String plan = plans(db, "PREPARE events(bigint[], text[]) AS " + Outbox.EVENTS,
        "EXPLAIN EXECUTE events('{" + ids + "}', array_fill('p_nostats_ev'::text, ARRAY[1000]))");
    assertThat(plan).as("the plan names this week's partition").contains(partition)
        .contains(partition + "_pkey").doesNotContain("Seq Scan on " + partition + " ")
        .doesNotContain(partition + "_partner_id_key_id_id_idx");
  }

  /** This week's partition of the table, which autovacuum leaves alone: only the test's VACUUM touches it. */
  private static String thisWeekUnanalyzed(Db db, String table) {
    String partition = table + "_w" + Weeks.week(Instant.now());
    db.execute("ALTER TABLE " + partition + " SET (autovacuum_enabled = off)");
    return partition;
  }

  /** The statements' plans, custom and generic, with the partition in the state above (never analyzed). */
  private static String plans(Db db, String... statements) throws Exception {
    StringBuilder plan = new StringBuilder();
    try (Connection conn = db.connect(); Statement st = conn.createStatement()) {
      for (String mode : new String[] {"force_custom_plan", "force_generic_plan"}) {
        st.execute("SET plan_cache_mode = " + mode);
        for (String sql : statements) {
          if (sql.startsWith("PREPARE")) {
            if (mode.equals("force_custom_plan")) {
              st.execute(sql);
            }
            continue;
          }
          try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
              plan.append(rs.getString(1)).append('\n');
            }
          }
        }
      }
    }
    return plan.toString();
  }
}
