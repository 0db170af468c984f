package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.Weeks;
import io.keypulse.testing.Db;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A node renews the lease on every delivery it holds while it records the attempts of a few of them.
 * Left to their plans the two locked the same rows in opposite orders (a sequential scan of the
 * thousands held, in physical order; an index scan of the batch, in id order) and Postgres broke the
 * deadlock by failing one of them. Here the rows are stored from the highest id down, so the two
 * orders are opposite, and a third transaction holding the middle row stops the renewal halfway
 * until the batch has started too: the interleaving that deadlocked, every time.
 */
@DisplayName("Changing many webhook deliveries at once")
class OutboxLockOrderTest {
  private static final int ROWS = 3000;

  @Test
  @DisplayName("a lease renewal and a batch of recorded attempts on the same rows never deadlock")
  void renewWhileRecording() throws Exception {
    Db db = Db.migratedWithPartner("p_lock");
    long base = db.count("SELECT keypulse_week_base(now())");
    db.execute("INSERT INTO deliveries (id, partner_id, event, url, payload, claimed_by, claim_until) SELECT " + base
        + " + " + ROWS + " - g, 'p_lock', 'test', 'http://127.0.0.1:9/hook', '{}', 'node', now() + interval '30 s' "
        + "FROM generate_series(0, " + (ROWS - 1) + ") g");
    db.execute("ANALYZE deliveries_w" + Weeks.week(Instant.now()));
    String all = db.<String>column("SELECT string_agg(id::text, ',') FROM deliveries").get(0);
    String lowestAndHighest = db.<String>column("SELECT min(id) || ',' || max(id) FROM deliveries").get(0);

    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (Connection holder = db.connect();
         Connection renewing = session(db, "PREPARE renew(bigint[], text, int) AS " + Outbox.RENEW);
         Connection recording = session(db, "PREPARE record(bigint[], int[], timestamptz[], int[], int[], text[], "
             + "text[], timestamptz[], text, text[]) AS " + Outbox.RECORD)) {
      long renewPid = pid(renewing);
      long recordPid = pid(recording);
      holder.setAutoCommit(false);
      holder.createStatement().execute("SELECT 1 FROM deliveries WHERE id = " + (base + ROWS / 2) + " FOR UPDATE");
      Future<String> renew = threads.submit(() -> run(renewing, "EXECUTE renew('{" + all + "}', 'node', 30)"));
      awaitLockWait(db, renewPid);
      Future<String> record = threads.submit(() -> run(recording, "EXECUTE record('{" + lowestAndHighest
          + "}', '{1,1}', ARRAY[now(), now()], '{200,200}', '{3,3}', '{NULL,NULL}', '{delivered,delivered}', "
          + "ARRAY[now(), now()], 'node', '{p_lock,p_lock}')"));
      awaitLockWait(db, recordPid);
      holder.rollback();

      assertThat(Arrays.asList(renew.get(), record.get())).as("what Postgres said to the renewal and the batch")
          .containsOnlyNulls();
    } finally {
      threads.shutdownNow();
    }
    assertThat(db.count("SELECT count(*) FROM deliveries WHERE status = 'delivered' AND claimed_by IS NULL"))
        .as("the batch recorded").isEqualTo(2);
    assertThat(db.count("SELECT count(*) FROM deliveries WHERE claimed_by = 'node' AND claim_until > now() + "
        + "interval '20 s'")).as("the rest renewed").isEqualTo(ROWS - 2);
  }

  private static Connection session(Db db, String prepare) throws SQLException {
    Connection conn = db.connect();
    try (Statement st = conn.createStatement()) {
      // A deadlock is found after 50 ms rather than the default second.
      st.execute("SET deadlock_timeout = '50ms'");
      st.execute(prepare);
    }
    return conn;
  }

  /** Null when the statement succeeded, else what Postgres said. */
  private static String run(Connection conn, String sql) {
    try (Statement st = conn.createStatement()) {
      st.execute(sql);
      return null;
    } catch (SQLException e) {
      return e.getSQLState() + " " + e.getMessage();
    }
  }

  private static long pid(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Until the backend's statement waits for a row lock. */
  private static void awaitLockWait(Db db, long pid) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (db.count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid + " AND wait_event_type = 'Lock'") == 0) {
      assertThat(System.nanoTime()).as("waiting for a row lock").isLessThan(deadline);
      Thread.sleep(10);
    }
  }
}
