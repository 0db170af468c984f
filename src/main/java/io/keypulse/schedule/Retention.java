package io.keypulse.schedule;

import io.keypulse.db.Weeks;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long events, alerts and webhook deliveries are kept (V15 keeps them in weekly partitions):
 * partitions are made weeks ahead; a whole week goes (DROP, no row by row) once it is older than
 * every partner's retention; a partner whose retention is shorter loses its older rows in bounded
 * chunks, oldest first, a chunk being the partner's next rows by id, of which the old are deleted:
 * so a run reads at most a chunk past the cut, however large the partner. The legacy partitions
 * (rows from before V15, every age mixed) are cut the same way for every partner, and dropped once empty.
 */
final class Retention {
  private static final Logger log = LoggerFactory.getLogger(Retention.class);
  /** Partitioned by id (week), in the order their partitions are dropped: attempts go with their delivery. */
  private static final List<String> TABLES = List.of("events", "alerts", "delivery_attempts", "deliveries");
  private static final String ENSURE = "SELECT sum(keypulse_ensure_partitions(t, $1))::int AS made "
      + "FROM unnest(ARRAY['events', 'alerts', 'deliveries', 'delivery_attempts']) AS t";
  private static final String WEEKLY = """
      SELECT c.relname AS name, p.relname AS parent FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ANY($1) AND c.relname ~ '_w[0-9]+$'
      """;
  /** Each partner's retention (its policy's, else the default), for those that have rows. */
  private static final String RETENTIONS = """
      SELECT p.id AS partner_id, coalesce((pol.policy->>'retention_days')::int, $1) AS days
      FROM partners p LEFT JOIN policies pol ON pol.partner_id = p.id
      """;
  private static final String LONGEST = "SELECT greatest($1, max((policy->>'retention_days')::int)) AS days FROM policies";
  /**
   * A chunk: the partner's next rows by id below the cut's week; the old among them go. Ids follow
   * time, so when the partner's oldest row is not past the cut, nothing is: that is looked at first
   * (one index probe), and a partner with nothing to cut costs no more.
   */
  private static final String EVENTS_CHUNK = """
      DELETE FROM events WHERE (partner_id, id) IN (
        SELECT partner_id, id FROM events WHERE partner_id = $1 AND id < $2 ORDER BY id LIMIT $3)
      AND created_at < $4
      AND EXISTS (SELECT 1 FROM (SELECT created_at FROM events WHERE partner_id = $1 AND id < $2 ORDER BY id LIMIT 1) o
                  WHERE o.created_at < $4)
      """;
  private static final String ALERTS_CHUNK = """
      DELETE FROM alerts WHERE (partner_id, id) IN (
        SELECT partner_id, id FROM alerts WHERE partner_id = $1 AND id < $2 ORDER BY id LIMIT $3)
      AND created_at < $4
      AND EXISTS (SELECT 1 FROM (SELECT created_at FROM alerts WHERE partner_id = $1 AND id < $2 ORDER BY id LIMIT 1) o
                  WHERE o.created_at < $4)
      """;
  private static final String DELIVERIES_CHUNK = """
      WITH gone AS (
        DELETE FROM deliveries WHERE (partner_id, id) IN (
          SELECT partner_id, id FROM deliveries WHERE partner_id = $1 AND id < $2 ORDER BY id LIMIT $3)
        AND created_at < $4
        AND EXISTS (SELECT 1 FROM (SELECT created_at FROM deliveries WHERE partner_id = $1 AND id < $2 ORDER BY id
                                   LIMIT 1) o WHERE o.created_at < $4)
        RETURNING partner_id, id),
      log AS (DELETE FROM delivery_attempts a USING gone
              WHERE a.partner_id = $1 AND a.delivery_id < $2 AND a.delivery_id = gone.id)
      SELECT count(*) AS n FROM gone
      """;
  private static final String LEGACY_EMPTY = "SELECT NOT EXISTS (SELECT 1 FROM %s) AS empty";

  private final Pool pool;
  private final int defaultDays;
  private final int weeksAhead;
  private final int chunk;

  Retention(Pool pool, int defaultDays, int weeksAhead, int chunk) {
    this.pool = pool;
    this.defaultDays = defaultDays;
    this.weeksAhead = weeksAhead;
    this.chunk = chunk;
  }

  /** Partitions for this week and the next ones; done at every start too (db/migration/afterMigrate.sql). */
  Future<Integer> ensureAhead() {
    return pool.preparedQuery(ENSURE).execute(Tuple.of(weeksAhead)).map(rows -> rows.iterator().next().getInteger("made"));
  }

  /** Drops every weekly partition whose week ended before the longest retention began (and an hour's margin). */
  Future<List<String>> dropExpiredWeeks(Instant now) {
    return pool.preparedQuery(LONGEST).execute(Tuple.of(defaultDays)).compose(rows -> {
      int days = rows.iterator().next().getInteger("days");
      long firstKept = Weeks.week(now.minus(Duration.ofDays(days)).minus(Duration.ofHours(1)));
      return pool.preparedQuery(WEEKLY).execute(Tuple.of((Object) TABLES.toArray(String[]::new))).compose(parts -> {
        List<String> expired = new ArrayList<>();
        for (String table : TABLES) {
          for (Row r : parts) {
            String name = r.getString("name");
            if (r.getString("parent").equals(table)
                && Long.parseLong(name.substring(name.lastIndexOf("_w") + 2)) < firstKept) {
              expired.add(name);
            }
          }
        }
        Future<Void> dropped = Future.succeededFuture();
        for (String name : expired) {
          dropped = dropped.compose(v -> pool.query("DROP TABLE IF EXISTS " + name).execute().mapEmpty());
        }
        return dropped.map(expired);
      });
    });
  }

  /**
   * Deletes, partner by partner, rows older than the partner's retention, at most {@code maxChunks}
   * chunks per partner and table in one run (the next run goes on). Returns the rows deleted.
   */
  Future<Long> cutPartners(Instant now, int maxChunks) {
    return pool.preparedQuery(RETENTIONS).execute(Tuple.of(defaultDays)).compose(rows -> {
      Future<Long> total = Future.succeededFuture(0L);
      for (Row r : rows) {
        String partner = r.getString("partner_id");
        Instant cut = now.minus(Duration.ofDays(r.getInteger("days")));
        // Rows created before the cut have ids below the week after it.
        long below = Weeks.base(Weeks.week(cut) + 1);
        Tuple args = Tuple.of(partner, below, chunk, cut.atOffset(java.time.ZoneOffset.UTC));
        total = total.compose(sum -> cut(EVENTS_CHUNK, args, maxChunks).map(n -> sum + n))
            .compose(sum -> cut(ALERTS_CHUNK, args, maxChunks).map(n -> sum + n))
            .compose(sum -> cut(DELIVERIES_CHUNK, args, maxChunks).map(n -> sum + n));
      }
      return total;
    });
  }

  /** The legacy partitions, once retention has emptied them. */
  Future<List<String>> dropEmptyLegacy() {
    List<String> dropped = new ArrayList<>();
    Future<Void> done = Future.succeededFuture();
    for (String table : TABLES) {
      String legacy = table + "_legacy";
      done = done.compose(v -> pool.query("SELECT to_regclass('" + legacy + "') IS NOT NULL AS present").execute())
          .compose(present -> !present.iterator().next().getBoolean("present") ? Future.succeededFuture()
              : pool.query(LEGACY_EMPTY.formatted(legacy)).execute().compose(empty -> {
                if (!empty.iterator().next().getBoolean("empty")) {
                  return Future.succeededFuture();
                }
                dropped.add(legacy);
                return pool.query("DROP TABLE " + legacy).execute().mapEmpty();
              }));
    }
    return done.map(dropped);
  }

  private Future<Long> cut(String sql, Tuple args, int chunksLeft) {
    return pool.preparedQuery(sql).execute(args).compose(rows -> {
      long n = sql == DELIVERIES_CHUNK ? rows.iterator().next().getLong("n") : rows.rowCount();
      // A short chunk means the cut is reached (or the partner has no more rows below it).
      if (n < chunk || chunksLeft <= 1) {
        return Future.succeededFuture(n);
      }
      return cut(sql, args, chunksLeft - 1).map(more -> n + more);
    });
  }

  static void logRun(List<String> dropped, long deleted, List<String> legacy) {
    if (!dropped.isEmpty() || deleted > 0 || !legacy.isEmpty()) {
      log.info("retention: dropped {} weekly partitions {}, deleted {} rows past partners' retention{}",
          dropped.size(), dropped, deleted, legacy.isEmpty() ? "" : ", dropped emptied " + legacy);
    }
  }
}
