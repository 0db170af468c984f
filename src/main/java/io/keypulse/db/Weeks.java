package io.keypulse.db;

import java.time.Duration;
import java.time.Instant;

/**
 * The weekly ids of events, alerts and deliveries (V15): week w, counted from Monday 1970-01-05
 * UTC, owns the ids [w * 2^36, (w + 1) * 2^36), and each table is partitioned by those ranges. So a
 * time bound becomes an id bound, and a query that carries one reads only the weeks it names.
 */
public final class Weeks {
  public static final int BITS = 36;
  private static final long MONDAY = 4 * 86_400;
  private static final long WEEK = 7 * 86_400;
  /**
   * A row's id may be from the week before its created_at by this much: a group commit draws its
   * week just before its statement's timestamp, and a clock stepped back keeps ids increasing.
   */
  private static final Duration MARGIN = Duration.ofHours(1);

  private Weeks() {}

  public static long week(Instant t) {
    return Math.floorDiv(t.getEpochSecond() - MONDAY, WEEK);
  }

  public static long base(long week) {
    return week << BITS;
  }

  /** The week an id was drawn in (ids of rows written before V15 are all in week 0 and below). */
  public static long weekOf(long id) {
    return id >> BITS;
  }

  /** No row written at or after {@code t} has an id below this. */
  public static long firstIdFrom(Instant t) {
    return base(week(t.minus(MARGIN)));
  }

  /** The start of a week, as an instant. */
  public static Instant start(long week) {
    return Instant.ofEpochSecond(MONDAY + week * WEEK);
  }
}
