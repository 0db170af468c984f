package io.keypulse.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * One partner's rows, newest first, with the filters that were given and a before-id cursor: the
 * shape of every listing the API pages (events, alerts, deliveries). Conditions and values are
 * bound as parameters; only column names come from code.
 */
public final class NewestFirst {
  private final StringBuilder sql;
  private final List<Object> params = new ArrayList<>();
  private final String idColumn;

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

  /** Runs it: at most limit rows before beforeId (if any), and the cursor of the next page. */
  public <T> Future<Page<T>> page(Pool pool, Long beforeId, int limit, Function<Row, T> map, ToLongFunction<T> idOf) {
    where(idColumn + " < ", beforeId);
    params.add(limit + 1);
    sql.append(" ORDER BY ").append(idColumn).append(" DESC LIMIT $").append(params.size());
    return pool.preparedQuery(sql.toString()).execute(Tuple.from(params)).map(rows -> {
      List<T> items = new ArrayList<>();
      rows.forEach(row -> items.add(map.apply(row)));
      boolean more = items.size() > limit;
      List<T> page = more ? items.subList(0, limit) : items;
      return new Page<>(page, more ? idOf.applyAsLong(page.get(page.size() - 1)) : null);
    });
  }
}
