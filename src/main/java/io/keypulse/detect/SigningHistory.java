package io.keypulse.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A key's signings over the last 14 days and two hours, compactly: one byte per closed hour (exact
 * up to 63, then in steps of 6 %, up to millions an hour), the current hour exact, and the trailing
 * hour by minute. Enough for seasonal profiles (the same hour on each of the last 14 days) in about
 * 460 bytes. A late event for a closed hour is counted with a deterministic probabilistic increment
 * (its chance derived from the event id), so replaying the same events rebuilds the same state.
 */
final class SigningHistory {
  static final long HOUR = KeyState.HOUR;
  static final long MINUTE = KeyState.MINUTE;
  /** 14 days of samples, each reading the hour before and the hour of the trailing window. */
  static final int HOURS = 14 * 24 + 2;
  private static final int EXACT = 64;
  private static final double STEP = 1.06;

  private final byte[] hours = new byte[HOURS];
  private long currentHour = Long.MIN_VALUE;
  private int currentCount;
  private final char[] minutes = new char[60];
  private long newestMinute = Long.MIN_VALUE;
  long firstSignAt = KeyState.NEVER;
  long lastSignAt = KeyState.NEVER;
  long signCount;
  /** Bumped whenever a closed hour changes: cached views of the history compare it. */
  int revision;

  void add(long t, long eventId) {
    signCount++;
    firstSignAt = firstSignAt == KeyState.NEVER ? t : Math.min(firstSignAt, t);
    lastSignAt = Math.max(lastSignAt, t);
    addHour(Math.floorDiv(t, HOUR), eventId, 1);
    addMinute(Math.floorDiv(t, MINUTE), 1);
  }

  /**
   * Counts from the first checkpoint format, hours then minutes in time order. The first signing is
   * taken as the start of the oldest hour with any, which is all that format knew.
   */
  void restore(long[] hourBuckets, long[] hourCounts, long[] minuteBuckets, long[] minuteCounts, long lastSign) {
    for (int i = 0; i < hourBuckets.length; i++) {
      if (hourCounts[i] > 0) {
        firstSignAt = firstSignAt == KeyState.NEVER ? hourBuckets[i] * HOUR : firstSignAt;
        signCount += hourCounts[i];
        addHour(hourBuckets[i], 0, (int) Math.min(Integer.MAX_VALUE / 2, hourCounts[i]));
      }
    }
    for (int i = 0; i < minuteBuckets.length; i++) {
      if (minuteCounts[i] > 0) {
        addMinute(minuteBuckets[i], (int) Math.min(Character.MAX_VALUE, minuteCounts[i]));
      }
    }
    lastSignAt = lastSign;
  }

  private void addHour(long hour, long eventId, int n) {
    if (currentHour == Long.MIN_VALUE) {
      currentHour = hour;
    }
    if (hour > currentHour) {
      close(hour);
    }
    if (hour == currentHour) {
      currentCount = (int) Math.min(Integer.MAX_VALUE / 2, (long) currentCount + n);
    } else if (hour > currentHour - HOURS) {
      int slot = slot(hour);
      int code = hours[slot] & 0xFF;
      if (code < 255 && chance(eventId, hour) < 1.0 / (decode(code + 1) - decode(code))) {
        hours[slot] = (byte) (code + 1);
        revision++;
      }
    }
  }

  /** Writes the current hour into the ring and clears the hours skipped on the way to {@code hour}. */
  private void close(long hour) {
    hours[slot(currentHour)] = (byte) encode(currentCount);
    for (long h = Math.max(currentHour + 1, hour - HOURS + 1); h < hour; h++) {
      hours[slot(h)] = 0;
    }
    currentHour = hour;
    currentCount = 0;
    revision++;
  }

  private void addMinute(long minute, int n) {
    if (newestMinute == Long.MIN_VALUE) {
      newestMinute = minute;
    }
    if (minute > newestMinute) {
      for (long m = Math.max(newestMinute + 1, minute - 59); m <= minute; m++) {
        minutes[(int) Math.floorMod(m, 60L)] = 0;
      }
      newestMinute = minute;
    }
    if (minute > newestMinute - 60) {
      int at = (int) Math.floorMod(minute, 60L);
      minutes[at] = (char) Math.min(Character.MAX_VALUE, minutes[at] + n);
    }
  }

  /** Signings in the 60 minutes ending with the minute of {@code t}. */
  long trailingHour(long t) {
    long last = Math.min(Math.floorDiv(t, MINUTE), newestMinute);
    long total = 0;
    for (long m = Math.max(last - 59, newestMinute - 59); m <= last; m++) {
      total += minutes[(int) Math.floorMod(m, 60L)];
    }
    return total;
  }

  /** Signings in one hour bucket (epoch hour), 0 outside what the ring holds. */
  long hour(long hour) {
    if (hour == currentHour) {
      return currentCount;
    }
    if (hour > currentHour || hour <= currentHour - HOURS) {
      return 0;
    }
    return decode(hours[slot(hour)] & 0xFF);
  }

  /** Signings in the hour buckets first..last inclusive. */
  long hours(long first, long last) {
    long total = 0;
    for (long h = Math.max(first, currentHour - HOURS + 1); h <= Math.min(last, currentHour); h++) {
      total += hour(h);
    }
    return total;
  }

  /** The most signings any one hour of first..last held. */
  long busiest(long first, long last) {
    long most = 0;
    for (long h = Math.max(first, currentHour - HOURS + 1); h <= Math.min(last, currentHour); h++) {
      most = Math.max(most, hour(h));
    }
    return most;
  }

  /** The first whole hour the key was seen signing in (its first hour may be partial). */
  long firstHour() {
    return Math.floorDiv(firstSignAt, HOUR);
  }

  boolean holds(long hour) {
    return hour > currentHour - HOURS;
  }

  private int slot(long hour) {
    return (int) Math.floorMod(hour, (long) HOURS);
  }

  static int encode(long count) {
    if (count < EXACT) {
      return (int) count;
    }
    return (int) Math.min(255, EXACT + Math.round(Math.log(count / (double) EXACT) / Math.log(STEP)));
  }

  static long decode(int code) {
    return code < EXACT ? code : Math.round(EXACT * Math.pow(STEP, code - EXACT));
  }

  /** A uniform number in [0, 1) fixed by the event and the hour (SplitMix64's finaliser). */
  private static double chance(long eventId, long hour) {
    long z = eventId * 0x9E3779B97F4A7C15L + hour;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return (z >>> 11) * 0x1.0p-53;
  }

  void write(DataOutput out) throws IOException {
    for (long v : new long[] {firstSignAt, lastSignAt, signCount, currentHour, newestMinute}) {
      out.writeLong(v);
    }
    out.writeInt(currentCount);
    out.write(hours);
    for (char c : minutes) {
      out.writeChar(c);
    }
  }

  void read(DataInput in) throws IOException {
    firstSignAt = in.readLong();
    lastSignAt = in.readLong();
    signCount = in.readLong();
    currentHour = in.readLong();
    newestMinute = in.readLong();
    currentCount = in.readInt();
    in.readFully(hours);
    for (int i = 0; i < minutes.length; i++) {
      minutes[i] = in.readChar();
    }
  }

  int bytes() {
    return 44 + hours.length + 2 * minutes.length;
  }
}
