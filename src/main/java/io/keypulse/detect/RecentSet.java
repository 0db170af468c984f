package io.keypulse.detect;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The values (IPs, actors) a key has used, in little memory: the most recent {@code capacity} as
 * exact 32-bit fingerprints, most recent first, and the ones pushed out of that in a 512-bit Bloom
 * filter (created at the first push-out, so keys with few values never pay for it). A value is
 * known if either holds it; the filter errs only towards "known", rarely (about 2 % at 50 values
 * pushed out), and a key with that much churn is judged by its networks anyway.
 */
final class RecentSet {
  private static final int BLOOM_BITS = 512;
  private final int capacity;
  private int[] items = new int[4];
  private int size;
  private long[] bloom;
  private int forgotten;

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
    int fp = fingerprint(value);
    return indexOf(fp) >= 0 || inBloom(fp);
  }

  /** Records the value as the most recent one. */
  void touch(String value) {
    int fp = fingerprint(value);
    int at = indexOf(fp);
    if (at < 0) {
      push(fp);
      return;
    }
    System.arraycopy(items, 0, items, 1, at);
    items[0] = fp;
  }

  /** A new value in front; the oldest exact one goes to the filter when the list is full. */
  private void push(int fp) {
    if (size == items.length && size < capacity) {
      items = Arrays.copyOf(items, Math.min(capacity, size * 2));
    }
    if (size == capacity) {
      remember(items[size - 1]);
    }
    int at = Math.min(size, capacity - 1);
    size = Math.min(size + 1, capacity);
    System.arraycopy(items, 0, items, 1, at);
    items[0] = fp;
  }

  /** Distinct values seen, counting those only the filter remembers. */
  int size() {
    return size + forgotten;
  }

  private int indexOf(int fp) {
    for (int i = 0; i < size; i++) {
      if (items[i] == fp) {
        return i;
      }
    }
    return -1;
  }

  private void remember(int fp) {
    if (bloom == null) {
      bloom = new long[BLOOM_BITS / 64];
    }
    if (!inBloom(fp)) {
      forgotten++;
    }
    for (int k = 0; k < 3; k++) {
      int bit = bit(fp, k);
      bloom[bit >>> 6] |= 1L << bit;
    }
  }

  private boolean inBloom(int fp) {
    if (bloom == null) {
      return false;
    }
    for (int k = 0; k < 3; k++) {
      int bit = bit(fp, k);
      if ((bloom[bit >>> 6] & 1L << bit) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Three probes from one fingerprint (double hashing). */
  private static int bit(int fp, int k) {
    int h2 = Integer.rotateLeft(fp, 16) * 0x9E3779B9 | 1;
    return Math.floorMod(fp + k * h2, BLOOM_BITS);
  }

  void write(DataOutput out) throws IOException {
    out.writeShort(size);
    for (int i = 0; i < size; i++) {
      out.writeInt(items[i]);
    }
    out.writeInt(bloom == null ? -1 : forgotten);
    if (bloom != null) {
      for (long word : bloom) {
        out.writeLong(word);
      }
    }
  }

  void read(DataInput in) throws IOException {
    size = in.readUnsignedShort();
    items = new int[Math.max(4, size)];
    for (int i = 0; i < size; i++) {
      items[i] = in.readInt();
    }
    forgotten = in.readInt();
    bloom = null;
    if (forgotten >= 0) {
      bloom = new long[BLOOM_BITS / 64];
      for (int i = 0; i < bloom.length; i++) {
        bloom[i] = in.readLong();
      }
    } else {
      forgotten = 0;
    }
  }

  /** Reads the first format: up to 256 fingerprints, most recent first. */
  void readLegacy(DataInput in) throws IOException {
    int n = in.readUnsignedShort();
    int[] all = new int[n];
    for (int i = 0; i < n; i++) {
      all[i] = in.readInt();
    }
    size = 0;
    items = new int[4];
    for (int i = n - 1; i >= 0; i--) {
      push(all[i]);
    }
  }

  int bytes() {
    return 6 + 4 * size + (bloom == null ? 0 : BLOOM_BITS / 8);
  }
}
