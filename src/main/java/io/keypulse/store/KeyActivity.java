package io.keypulse.store;

import io.keypulse.db.Weeks;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * A key's signing per hour of event time, for the dashboard's chart: the last 24 hours against
 * the hourly mean of the seven days before the current hour, the baseline the spike detector uses
 * (a key younger than a week averages over the hours it has lived).
 */
public final class KeyActivity {
  public static final int HOURS_SHOWN = 24;
  private static final int BASELINE_HOURS = 168;
  private static final String HOURLY = """
      SELECT date_trunc('hour', occurred_at) AS hour, count(*) AS n, min(occurred_at) AS first
      FROM events
      WHERE partner_id = $1 AND key_id = $2 AND canonical_type = 'sign' AND occurred_at >= $3 AND id >= $4
      GROUP BY 1""";

  /** hourly: the shown hours, oldest first; baseline: mean signings per hour before the current one. */
  public record Activity(Instant[] hours, long[] hourly, double baseline, long baselineHours) {}

  private final Pool pool;
  private final Duration futureSkew;

  /** futureSkew: how far ahead of its commit an event's occurred_at may be: the id bound allows for it. */
  public KeyActivity(Pool pool, Duration futureSkew) {
    this.pool = pool;
    this.futureSkew = futureSkew;
  }

  public Future<Activity> of(String partnerId, String keyId, Instant now) {
    Instant current = now.truncatedTo(ChronoUnit.HOURS);
    Instant from = current.minus(BASELINE_HOURS, ChronoUnit.HOURS);
    long fromId = Weeks.firstIdFrom(from.minus(futureSkew));
    return pool.preparedQuery(HOURLY).execute(Tuple.of(partnerId, keyId, from.atOffset(ZoneOffset.UTC), fromId))
        .map(rows -> {
          Map<Instant, Long> counts = new HashMap<>();
          Instant first = null;
          for (var row : rows) {
            counts.put(row.getOffsetDateTime("hour").toInstant(), row.getLong("n"));
            Instant t = row.getOffsetDateTime("first").toInstant();
            first = first == null || t.isBefore(first) ? t : first;
          }
          return activity(counts, first, current);
        });
  }

  private static Activity activity(Map<Instant, Long> counts, Instant first, Instant current) {
    Instant[] hours = new Instant[HOURS_SHOWN];
    long[] hourly = new long[HOURS_SHOWN];
    for (int i = 0; i < HOURS_SHOWN; i++) {
      hours[i] = current.minus(HOURS_SHOWN - 1 - i, ChronoUnit.HOURS);
      hourly[i] = counts.getOrDefault(hours[i], 0L);
    }
    long before = counts.entrySet().stream().filter(e -> e.getKey().isBefore(current))
        .mapToLong(Map.Entry::getValue).sum();
    long lived = first == null ? 0 : Duration.between(first.truncatedTo(ChronoUnit.HOURS), current).toHours();
    long span = Math.max(1, Math.min(BASELINE_HOURS, lived));
    return new Activity(hours, hourly, before / (double) span, span);
  }
}
