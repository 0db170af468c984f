package io.keypulse.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Event counts per fixed-width time bucket, for the newest {@code size} buckets (a ring). Buckets
 * are numbered by {@code eventTime / width}; an event older than the ring's reach is not counted.
 */
final class TimeBuckets {
  private final long width;
  private final int[] counts;
  private long newest = Long.MIN_VALUE;

  TimeBuckets(long widthMillis, int size) {
    this.width = widthMillis;
    this.counts = new int[size];
  }

  long bucketOf(long time) {
    return Math.floorDiv(time, width);
  }

  void add(long time) {
    long bucket = bucketOf(time);
    if (newest == Long.MIN_VALUE) {
      newest = bucket;
    }
    if (bucket > newest) {
      for (long b = Math.max(newest + 1, bucket - counts.length + 1); b <= bucket; b++) {
        counts[slot(b)] = 0;
      }
      newest = bucket;
    }
    if (bucket > newest - counts.length) {
      counts[slot(bucket)]++;
    }
  }

  /** Sum over buckets first..last inclusive, limited to the buckets the ring still holds. */
  long sum(long first, long last) {
    long total = 0;
    for (long b = Math.max(first, newest - counts.length + 1); b <= Math.min(last, newest); b++) {
      total += counts[slot(b)];
    }
    return total;
  }

  /** The newest bucket counted, Long.MIN_VALUE when none. */
  long newest() {
    return newest;
  }

  int size() {
    return counts.length;
  }

  long count(long bucket) {
    return sum(bucket, bucket);
  }

  private int slot(long bucket) {
    return (int) Math.floorMod(bucket, (long) counts.length);
  }

  void write(DataOutput out) throws IOException {
    out.writeLong(newest);
    for (int c : counts) {
      out.writeInt(c);
    }
  }

  void read(DataInput in) throws IOException {
    newest = in.readLong();
    for (int i = 0; i < counts.length; i++) {
      counts[i] = in.readInt();
    }
  }

  int bytes() {
    return 8 + 4 * counts.length;
  }
}
