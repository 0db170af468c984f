package io.keypulse.detect;

import io.netty.util.NetUtil;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The networks a key's source addresses come from (IPv4 /24, IPv6 /64), each with how many distinct
 * addresses the key was first seen using there lately: a key signing from autoscaled pods shows many
 * addresses in one network, a key with stable addresses shows one or two. At most {@value #LIMIT}
 * networks, the least recently grown forgotten first; a network silent for 14 days starts again.
 */
final class SourceNetworks {
  static final int LIMIT = 8;
  private static final long FORGET_HOURS = 14 * 24;
  private long[] prefixes = new long[0];
  private boolean[] v6 = new boolean[0];
  private short[] addresses = new short[0];
  private int[] lastNewHour = new int[0];

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
    return at < 0 || hour(t) - lastNewHour[at] > FORGET_HOURS ? 0 : addresses[at];
  }

  /** Records a source address the key had not seen before. */
  void newAddress(Network n, long t) {
    int at = indexOf(n);
    int hour = hour(t);
    if (at < 0) {
      at = prefixes.length < LIMIT ? grow() : oldest();
      prefixes[at] = n.prefix();
      v6[at] = n.v6();
      addresses[at] = 0;
    } else if (hour - lastNewHour[at] > FORGET_HOURS) {
      addresses[at] = 0;
    }
    addresses[at] = (short) Math.min(Short.MAX_VALUE, addresses[at] + 1);
    lastNewHour[at] = Math.max(lastNewHour[at], hour);
  }

  /** The networks as evidence: [{network, addresses}], busiest first. */
  JsonArray toJson(long t) {
    JsonArray out = new JsonArray();
    Integer[] order = new Integer[prefixes.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> addresses[b] - addresses[a]);
    for (int i : order) {
      if (hour(t) - lastNewHour[i] <= FORGET_HOURS) {
        out.add(new JsonObject().put("network", new Network(prefixes[i], v6[i]).toString())
            .put("addresses", (int) addresses[i]));
      }
    }
    return out;
  }

  private int indexOf(Network n) {
    for (int i = 0; i < prefixes.length; i++) {
      if (prefixes[i] == n.prefix() && v6[i] == n.v6()) {
        return i;
      }
    }
    return -1;
  }

  private int grow() {
    int n = prefixes.length;
    prefixes = java.util.Arrays.copyOf(prefixes, n + 1);
    v6 = java.util.Arrays.copyOf(v6, n + 1);
    addresses = java.util.Arrays.copyOf(addresses, n + 1);
    lastNewHour = java.util.Arrays.copyOf(lastNewHour, n + 1);
    return n;
  }

  private int oldest() {
    int at = 0;
    for (int i = 1; i < prefixes.length; i++) {
      at = lastNewHour[i] < lastNewHour[at] ? i : at;
    }
    return at;
  }

  private static int hour(long t) {
    return (int) Math.floorDiv(t, KeyState.HOUR);
  }

  void write(DataOutput out) throws IOException {
    out.writeByte(prefixes.length);
    for (int i = 0; i < prefixes.length; i++) {
      out.writeLong(prefixes[i]);
      out.writeBoolean(v6[i]);
      out.writeShort(addresses[i]);
      out.writeInt(lastNewHour[i]);
    }
  }

  void read(DataInput in) throws IOException {
    int n = in.readUnsignedByte();
    prefixes = new long[n];
    v6 = new boolean[n];
    addresses = new short[n];
    lastNewHour = new int[n];
    for (int i = 0; i < n; i++) {
      prefixes[i] = in.readLong();
      v6[i] = in.readBoolean();
      addresses[i] = in.readShort();
      lastNewHour[i] = in.readInt();
    }
  }

  int bytes() {
    return 1 + 15 * prefixes.length;
  }
}
