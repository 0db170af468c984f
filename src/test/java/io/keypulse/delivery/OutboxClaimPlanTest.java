package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Db;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The claim stays cheap when the outbox has grown since it was last analyzed: with statistics that
 * say "empty", the planner once joined every due row to the candidates in a nested loop that
 * recomputed the candidates for each row (6.5 s per claim at 9 606 due rows, and webhooks fell
 * behind ingest for good). With the candidates' ids taken as one array, the same stale statistics
 * cost ~0.1 s at 10 000 due rows (a filter on an index scan).
 */
@DisplayName("The outbox claim with stale statistics")
class OutboxClaimPlanTest {

  @Test
  @DisplayName("computes its candidates once, never a nested-loop join filter over the due rows")
  void staleStatistics() throws Exception {
    Db db = Db.migratedWithPartner("p_plan");
    db.execute("ANALYZE deliveries");  // the statistics of an empty outbox
    db.execute("INSERT INTO deliveries (partner_id, event, url, payload) SELECT 'p_plan', 'test', "
        + "'http://127.0.0.1:9/hook', '{}' FROM generate_series(1, 5000)");

    String prepared = "PREPARE claim(text, int, int, text[], int, int) AS " + Outbox.CLAIM;
    StringBuilder plan = new StringBuilder();
    try (Connection conn = db.connect(); Statement st = conn.createStatement()) {
      st.execute(prepared);
      // Explain as the node runs it: the 6th execution onwards may use the generic plan; force it.
      st.execute("SET plan_cache_mode = force_generic_plan");
      try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE claim('node', 4096, 30, '{}', 1024, 2000)")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      st.execute("SET plan_cache_mode = force_custom_plan");
      try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE claim('node', 4096, 30, '{}', 1024, 2000)")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
    }
    assertThat(plan.toString()).as("both plans: the candidates computed once, never joined row by row to the due rows")
        .contains("InitPlan").doesNotContain("Join Filter");
  }

}
