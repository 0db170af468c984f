package io.keypulse.detect;

import io.vertx.core.json.JsonArray;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * What a key usually does at one hour, read from its own signing history (SPEC §5, seasonal
 * baselines). For each of the last 14 days the key was observed, a sample is the busiest of the two
 * clock hours the trailing window spans on that day and the hour after them, so that a window
 * opening a little early or a batch starting a few minutes before its usual hour reads as usual. The expectation is the upper median of the samples
 * from days of the same kind (weekdays or weekends, in the key's business-hours zone, else UTC):
 * one past spike among three or more days cannot raise it. With fewer than three days of the kind,
 * never below the median of all days: two days say little, and a key in Tokyo starts its Monday on
 * a UTC Sunday. With two weeks observed, the same hour on
 * the same weekday one and two weeks back may raise it (never lower it): the smaller of those two, so
 * that again one spike does not count. A day counts once the key was observed through both hours
 * (its first hour is partial). With fewer than three such days, the flat rate of the last 7 days,
 * but never below the busiest hour the key has had: on its second night a nightly batch is not a
 * spike against its own daily average. Until a full week is seen, which days are the key's days off
 * is not known (a key in Tokyo works on a UTC Sunday evening): the busiest of the days seen, at this
 * hour, is the expectation.
 *
 * <p>A key that grew since a sample's day is judged at today's level: each sample is scaled up by
 * how much busier the key's last 24 hours were than the 24 hours before that sample (never down, at
 * most 4×), so a key growing 15 % a day is not a spike against last week's weekend. A sample after
 * a day off reads as scaled up too, which the median of a week's samples shrugs off; the first
 * week's busiest-of-the-days uses the samples as they were.
 *
 * <p>For off-hours, the same days say whether the key signed in this hour or the hours on either side
 * of it: an hour next to the key's usual window is judged with the window's edge in mind.
 */
record SeasonalBaseline(long hour, double expectedRph, String profile, String dayClass, int[] days,
                        long[] samples, int daysObserved, int daysUsed, long historyTotal, long historyHours) {
  static final int DAYS = 14;
  /** Fewer observed days than this make no profile: one or two days cannot say what a Monday is. */
  static final int MIN_DAYS = 3;
  /** Fewer than this and the key's week is not known yet: which days are its days off? */
  static final int WEEK = 7;
  /** A sample scales up with the key's growth since its day, at most this much (15 %/day for 10 days). */
  static final double MAX_GROWTH = 4;

  private static final int[] NO_DAYS = new int[0];
  private static final long[] NO_SAMPLES = new long[0];

  /**
   * The baseline at time t. Without {@code evidence} the days and samples are left out: the state
   * caches this light form, and the arrays are only worth their memory in an alert.
   */
  static SeasonalBaseline of(SigningHistory h, long t, ZoneId zone, boolean evidence) {
    long hour = Math.floorDiv(t, SigningHistory.HOUR);
    long first = h.firstHour();
    boolean weekendNow = weekend(hour, zone);
    int[] sameDays = new int[DAYS];
    int[] allDays = new int[DAYS];
    long[] sameSamples = new long[DAYS];
    long[] allSamples = new long[DAYS];
    long[] rawSamples = new long[DAYS];
    int same = 0;
    int all = 0;
    int used = 0;
    long levelNow = dayBefore(h, hour, first);
    for (int d = 1; d <= DAYS; d++) {
      long b = hour - 24L * d;
      if (b - 1 < first || !h.holds(b - 1)) {
        break;
      }
      long after = h.hour(b + 1);
      long raw = Math.max(Math.max(h.hour(b - 1), h.hour(b)), after);
      used += raw > 0 ? 1 : 0;
      long levelThen = dayBefore(h, b, first);
      double grown = levelNow > 0 && levelThen > 0 ? Math.min(MAX_GROWTH, levelNow / (double) levelThen) : 1;
      long sample = Math.round(raw * Math.max(1, grown));
      LocalDate date = date(b, zone);
      rawSamples[all] = raw;
      allSamples[all] = sample;
      allDays[all++] = (int) date.toEpochDay();
      if (weekend(date) == weekendNow) {
        sameSamples[same] = sample;
        sameDays[same++] = (int) date.toEpochDay();
      }
    }
    long since = Math.max(first, hour - SigningHistory.HOURS + 1);
    long total = h.hours(since, hour - 1);
    long observed = Math.max(0, hour - since);
    if (all < MIN_DAYS) {
      long lived = Math.max(1, Math.min(168, hour - first));
      double flat = Math.max(h.hours(hour - 168, hour - 1) / (double) lived, h.busiest(hour - 168, hour - 1));
      return new SeasonalBaseline(hour, flat, "flat", null, NO_DAYS, NO_SAMPLES, 0, 0, total, observed);
    }
    if (all < WEEK) {
      // Unscaled: the day before a Monday sample is a Sunday, and the busiest of a few days must not
      // take a sample scaled up for "growth" that was only a day off.
      long[] samples = Arrays.copyOf(rawSamples, all);
      return new SeasonalBaseline(hour, Arrays.stream(samples).max().orElse(0), "hour_of_day", "all",
          evidence ? Arrays.copyOf(allDays, all) : NO_DAYS, evidence ? samples : NO_SAMPLES, all, used, total,
          observed);
    }
    boolean byClass = same > 0;
    int n = byClass ? same : all;
    long[] samples = Arrays.copyOf(byClass ? sameSamples : allSamples, n);
    double expected = upperMedian(samples);
    if (byClass && n < 3 && n < all) {
      // Two days of a kind say little, and the key's week may not be UTC's: never below all days.
      expected = Math.max(expected, upperMedian(Arrays.copyOf(allSamples, all)));
    }
    String profile = "hour_of_day";
    if (all >= DAYS) {
      double weekly = Math.min(allSamples[6], allSamples[13]);
      if (weekly > expected) {
        expected = weekly;
        profile = "hour_of_week";
      }
    }
    return new SeasonalBaseline(hour, expected, profile, byClass ? (weekendNow ? "weekend" : "weekday") : "all",
        evidence ? Arrays.copyOf(byClass ? sameDays : allDays, n) : NO_DAYS, evidence ? samples : NO_SAMPLES, all,
        used, total, observed);
  }

  /** Signings in the 24 hours before the window that ends with hour {@code b}; 0 when not all observed. */
  private static long dayBefore(SigningHistory h, long b, long first) {
    return b - 25 < first || !h.holds(b - 25) ? 0 : h.hours(b - 25, b - 2);
  }

  private static double upperMedian(long[] samples) {
    long[] sorted = samples.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  static boolean weekend(long hour, ZoneId zone) {
    return weekend(date(hour, zone));
  }

  private static boolean weekend(LocalDate date) {
    DayOfWeek day = date.getDayOfWeek();
    return day == DayOfWeek.SATURDAY || day == DayOfWeek.SUNDAY;
  }

  private static LocalDate date(long hour, ZoneId zone) {
    long millis = hour * SigningHistory.HOUR;
    if (zone == ZoneOffset.UTC) {
      return LocalDate.ofEpochDay(Math.floorDiv(millis, KeyState.DAY));
    }
    return Instant.ofEpochMilli(millis).atZone(zone).toLocalDate();
  }

  /** The flat rate over the key's observed history in the ring: what a uniform key would do per hour. */
  double flatRph() {
    return historyHours == 0 ? 0 : historyTotal / (double) historyHours;
  }

  JsonArray daysJson() {
    JsonArray out = new JsonArray();
    for (int day : days) {
      out.add(LocalDate.ofEpochDay(day).toString());
    }
    return out;
  }

  JsonArray samplesJson() {
    JsonArray out = new JsonArray();
    for (long s : samples) {
      out.add(s);
    }
    return out;
  }
}
