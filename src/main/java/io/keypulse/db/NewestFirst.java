package io.keypulse.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * One partner's rows, newest first, with the filters that were given and a before-id cursor: the
 * shape of every listing the API pages (events, alerts, deliveries). Conditions and values are
 * bound as parameters; only column names come from code.
 *
 * <p>The tables are partitioned by weekly ids (V15, {@link Weeks}), so a page is read a window of
 * weeks at a time, newest first, and each query reads only its window's partitions: the cursor's
 * week, then the three weeks before it, then everything older (down to {@link #from}, when a filter
 * gives a lower bound). A partner with recent rows is answered from one or two partitions, however
 * many years the table holds.
 */
public final class NewestFirst {
  /** Weeks in the second window: the first is the cursor's own week, the third all the rest. */
  private static final int SECOND_WINDOW_WEEKS = 3;

  private final StringBuilder sql;
  private final List<Object> params = new ArrayList<>();
  private final String idColumn;
  private long floor = Long.MIN_VALUE;

  /** selectFrom: "SELECT … FROM table alias"; the partner condition is added here. */
  public NewestFirst(String selectFrom, String partnerColumn, String idColumn, String partnerId) {
    this.sql = new StringBuilder(selectFrom).append(" WHERE ").append(partnerColumn).append(" = $1");
    this.idColumn = idColumn;
    params.add(partnerId);
  }

  /** Adds "AND {condition} $n" (condition like "status = ") when the value is not null. */
  public NewestFirst where(String condition, Object value) {
    if (value != null) {
      params.add(value);
      sql.append(" AND ").append(condition).append('$').append(params.size());
    }
    return this;
  }

  /** No row the filters can match has an id below this (a time filter's {@link Weeks#firstIdFrom}). */
  public NewestFirst from(Long lowestId) {
    if (lowestId != null) {
      floor = Math.max(floor, lowestId);
    }
    return this;
  }

  /** Runs it: at most limit rows before beforeId (if any), and the cursor of the next page. */
  public <T> Future<Page<T>> page(Pool pool, Long beforeId, int limit, Function<Row, T> map, ToLongFunction<T> idOf) {
    int lo = params.size() + 1;
    String query = sql + " AND " + idColumn + " >= $" + lo + " AND " + idColumn + " < $" + (lo + 1)
        + " ORDER BY " + idColumn + " DESC LIMIT $" + (lo + 2);
    long top = beforeId != null ? beforeId : Long.MAX_VALUE;
    long anchor = beforeId != null ? Weeks.weekOf(beforeId - 1) : Math.max(Weeks.week(Instant.now()), 0);
    long[] bounds = {top, Weeks.base(anchor), Weeks.base(anchor - SECOND_WINDOW_WEEKS), floor};
    List<T> items = new ArrayList<>();
    return window(pool, query, bounds, 0, limit, items, map).map(done -> {
      boolean more = items.size() > limit;
      List<T> page = more ? items.subList(0, limit) : items;
      return new Page<>(page, more ? idOf.applyAsLong(page.get(page.size() - 1)) : null);
    });
  }

  /** Reads window i ([bounds[i+1], bounds[i]), clipped to the floor), then the next while the page is short. */
  private <T> Future<Void> window(Pool pool, String query, long[] bounds, int i, int limit, List<T> items,
                                  Function<Row, T> map) {
    if (i >= bounds.length - 1 || items.size() > limit || bounds[i] <= floor) {
      return Future.succeededFuture();
    }
    long hi = bounds[i];
    long lo = Math.max(Math.min(bounds[i + 1], hi), floor);
    if (lo >= hi) {
      return window(pool, query, bounds, i + 1, limit, items, map);
    }
    Tuple args = Tuple.from(params).addLong(lo).addLong(hi).addInteger(limit + 1 - items.size());
    return pool.preparedQuery(query).execute(args).compose(rows -> {
      rows.forEach(row -> items.add(map.apply(row)));
      return window(pool, query, bounds, i + 1, limit, items, map);
    });
  }
}
