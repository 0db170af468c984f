package io.keypulse.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The most recently seen values (IPs, actors) of a key, bounded: up to {@code capacity} 32-bit
 * fingerprints, most recent first. A value pushed out and seen again counts as new.
 */
final class RecentSet {
  private final int capacity;
  private int[] items = new int[4];
  private int size;

  RecentSet(int capacity) {
    this.capacity = capacity;
  }

  /** String's cached hash, mixed (murmur3's finalizer) so that similar values spread. */
  static int fingerprint(String value) {
    int h = value.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  boolean contains(String value) {
    return indexOf(fingerprint(value)) >= 0;
  }

  /** Records the value as the most recent one. */
  void touch(String value) {
    int fp = fingerprint(value);
    int at = indexOf(fp);
    if (at < 0) {
      if (size == items.length && size < capacity) {
        items = Arrays.copyOf(items, Math.min(capacity, size * 2));
      }
      at = Math.min(size, capacity - 1);
      size = Math.min(size + 1, capacity);
    }
    System.arraycopy(items, 0, items, 1, at);
    items[0] = fp;
  }

  int size() {
    return size;
  }

  private int indexOf(int fp) {
    for (int i = 0; i < size; i++) {
      if (items[i] == fp) {
        return i;
      }
    }
    return -1;
  }

  void write(DataOutput out) throws IOException {
    out.writeShort(size);
    for (int i = 0; i < size; i++) {
      out.writeInt(items[i]);
    }
  }

  void read(DataInput in) throws IOException {
    size = in.readUnsignedShort();
    items = new int[Math.max(4, size)];
    for (int i = 0; i < size; i++) {
      items[i] = in.readInt();
    }
  }

  int bytes() {
    return 2 + 4 * size;
  }
}
