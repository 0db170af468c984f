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
 * Recording a batch of attempts reads its deliveries by id, whatever the statistics say of who holds
 * them. Joined to the batch only, with statistics from when this node held a row or two, the planner
 * read the whole week of deliveries for every batch (seen under load: a sequential scan of each
 * partition per batch of 50-100 attempts), a cost that grows with the outbox.
 */
@DisplayName("Recording webhook attempts with stale statistics")
class OutboxRecordPlanTest {

  @Test
  @DisplayName("finds the batch's deliveries through the id index, never by reading the partition")
  void readsByIdIndex() throws Exception {
    Db db = Db.migratedWithPartner("p_plan");
    db.execute("INSERT INTO deliveries (partner_id, event, url, payload, status) SELECT 'p_plan', 'test', "
        + "'http://127.0.0.1:9/hook', '{}', 'delivered' FROM generate_series(1, 8000)");
    // As autovacuum does it: the week's partition analyzed (the parent never is) while nobody held a
    // row, so "claimed_by = node" looks like a row or none.
    String partition = "deliveries_w" + Weeks.week(Instant.now());
    db.execute("ANALYZE " + partition);
    db.execute("UPDATE deliveries SET status = 'pending', claimed_by = 'node' "
        + "WHERE id IN (SELECT id FROM deliveries ORDER BY id DESC LIMIT 100)");
    String ids = db.<String>column("SELECT string_agg(id::text, ',') FROM (SELECT id FROM deliveries "
        + "WHERE claimed_by = 'node' ORDER BY id LIMIT 52) x").get(0);
    String n = Integer.toString(ids.split(",").length);
    String args = "'{" + ids + "}', array_fill(1, ARRAY[" + n + "]), array_fill(now(), ARRAY[" + n + "]), "
        + "array_fill(200, ARRAY[" + n + "]), array_fill(3, ARRAY[" + n + "]), array_fill(NULL::text, ARRAY[" + n + "]), "
        + "array_fill('delivered'::text, ARRAY[" + n + "]), array_fill(now(), ARRAY[" + n + "]), 'node', "
        + "array_fill('p_plan'::text, ARRAY[" + n + "])";

    StringBuilder plan = new StringBuilder();
    try (Connection conn = db.connect(); Statement st = conn.createStatement()) {
      st.execute("PREPARE record(bigint[], int[], timestamptz[], int[], int[], text[], text[], timestamptz[], text, "
          + "text[]) AS " + Outbox.RECORD);
      for (String mode : new String[] {"force_custom_plan", "force_generic_plan"}) {
        st.execute("SET plan_cache_mode = " + mode);
        try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE record(" + args + ")")) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
      }
    }
    // This week's partition holds the rows; the empty ones ahead cost nothing either way.
    assertThat(plan.toString()).as("both plans read this week's deliveries by id").contains(partition)
        .doesNotContain("Seq Scan on " + partition + " ");
  }
}
