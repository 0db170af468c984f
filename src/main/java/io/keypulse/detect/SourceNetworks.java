package io.keypulse.detect;

import io.netty.util.NetUtil;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * The networks a key's source addresses come from (IPv4 /24, IPv6 /64), each with how many distinct
 * addresses the key was first seen using there lately: a key signing from autoscaled pods shows many
 * addresses in one network, a key with stable addresses shows one or two. At most {@value #LIMIT}
 * networks, the least recently grown forgotten first; a network with no new address for 14 days
 * starts again. Two longs a network: the prefix, then version, address count and last growth hour.
 */
final class SourceNetworks {
  static final int LIMIT = 8;
  private static final long FORGET_HOURS = 14 * 24;
  private static final long[] NONE = new long[0];
  private long[] entries = NONE;

  /** A parsed network: the /24 or /64 prefix bits, or null for something that is not an address. */
  record Network(long prefix, boolean v6) {
    static Network of(String ip) {
      byte[] a = ip == null ? null : NetUtil.createByteArrayFromIpAddressString(ip);
      if (a == null) {
        return null;
      }
      long prefix = 0;
      int bytes = a.length == 4 ? 3 : 8;
      for (int i = 0; i < bytes; i++) {
        prefix = prefix << 8 | (a[i] & 0xFF);
      }
      return new Network(prefix, a.length == 16);
    }

    @Override
    public String toString() {
      if (!v6) {
        return (prefix >>> 16 & 0xFF) + "." + (prefix >>> 8 & 0xFF) + "." + (prefix & 0xFF) + ".0/24";
      }
      StringBuilder s = new StringBuilder();
      for (int g = 3; g >= 0; g--) {
        s.append(Long.toHexString(prefix >>> (16 * g) & 0xFFFF)).append(':');
      }
      return s.append(":/64").toString();
    }
  }

  /** Distinct addresses lately seen in the network, 0 when the key does not use it. */
  int addresses(Network n, long t) {
    int at = indexOf(n);
    return at < 0 || stale(at, t) ? 0 : addresses(at);
  }

  /** Records a source address the key had not seen before. */
  void newAddress(Network n, long t) {
    int at = indexOf(n);
    long hour = hour(t);
    int count = 1;
    if (at < 0) {
      at = entries.length < 2 * LIMIT ? grow() : oldest();
      entries[at] = n.prefix();
    } else {
      count = stale(at, t) ? 1 : Math.min(0xFFFF, addresses(at) + 1);
      hour = Math.max(hour, lastHour(at));
    }
    entries[at + 1] = (n.v6() ? 1L << 63 : 0) | (long) count << 32 | (hour & 0xFFFFFFFFL);
  }

  /** The networks as evidence: [{network, addresses}], busiest first. */
  JsonArray toJson(long t) {
    Integer[] order = new Integer[entries.length / 2];
    for (int i = 0; i < order.length; i++) {
      order[i] = 2 * i;
    }
    Arrays.sort(order, (a, b) -> addresses(b) - addresses(a));
    JsonArray out = new JsonArray();
    for (int at : order) {
      if (!stale(at, t)) {
        out.add(new JsonObject().put("network", new Network(entries[at], v6(at)).toString())
            .put("addresses", addresses(at)));
      }
    }
    return out;
  }

  private int addresses(int at) {
    return (int) (entries[at + 1] >>> 32 & 0xFFFF);
  }

  private boolean v6(int at) {
    return entries[at + 1] < 0;
  }

  private long lastHour(int at) {
    return entries[at + 1] & 0xFFFFFFFFL;
  }

  private boolean stale(int at, long t) {
    return hour(t) - lastHour(at) > FORGET_HOURS;
  }

  private int indexOf(Network n) {
    for (int at = 0; at < entries.length; at += 2) {
      if (entries[at] == n.prefix() && v6(at) == n.v6()) {
        return at;
      }
    }
    return -1;
  }

  private int grow() {
    entries = Arrays.copyOf(entries, entries.length + 2);
    return entries.length - 2;
  }

  private int oldest() {
    int oldest = 0;
    for (int at = 2; at < entries.length; at += 2) {
      oldest = lastHour(at) < lastHour(oldest) ? at : oldest;
    }
    return oldest;
  }

  private static long hour(long t) {
    return Math.max(0, Math.floorDiv(t, KeyState.HOUR));
  }

  void write(DataOutput out) throws IOException {
    out.writeByte(entries.length / 2);
    for (long v : entries) {
      out.writeLong(v);
    }
  }

  void read(DataInput in) throws IOException {
    int n = in.readUnsignedByte();
    entries = n == 0 ? NONE : new long[2 * n];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = in.readLong();
    }
  }

  int bytes() {
    return 1 + 8 * entries.length;
  }
}
