package io.keypulse.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/** Reads maintained counters: constant work however many events are stored. */
public final class StatsQueries {
  /** Scope '*' holds the totals over every partner. */
  public static final String EVERYONE = "*";

  private static final String READ = """
      SELECT coalesce(t.total_keys, 0) AS total_keys, coalesce(t.total_events, 0) AS total_events,
             coalesce(t.nominal, 0) AS nominal, coalesce(t.warning, 0) AS warning, coalesce(t.critical, 0) AS critical,
             (SELECT coalesce(sum(a.events), 0) FROM stats_arrivals a
               WHERE a.scope = $1 AND a.minute > now() - interval '24 hours') AS events_24h
      FROM (SELECT $1::text AS scope) s LEFT JOIN stats_totals t USING (scope)
      """;

  private final Pool pool;

  public StatsQueries(Pool pool) {
    this.pool = pool;
  }

  public Future<Stats> of(String scope) {
    return pool.preparedQuery(READ).execute(Tuple.of(scope)).map(rows -> {
      Row r = rows.iterator().next();
      return new Stats(r.getLong("total_keys"), r.getLong("total_events"), r.getLong("events_24h"),
          r.getLong("nominal"), r.getLong("warning"), r.getLong("critical"));
    });
  }
}
