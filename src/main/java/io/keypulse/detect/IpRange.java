package io.keypulse.detect;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An exemption's source range, IPv4 or IPv6, parsed once so that matching an event's IP is a few
 * byte comparisons. Host bits are cleared, so equal ranges print the same ("10.1.2.3/24" is
 * "10.1.2.0/24"). The webhook targets' allowed and refused ranges are IpRanges too.
 */
public record IpRange(byte[] network, int prefix) {

  /** "10.0.0.0/8", "2001:db8::/32", or one address (a /32 or /128). */
  public static IpRange parse(String text) {
    String[] parts = text.trim().split("/", 2);
    byte[] address = NetUtil.createByteArrayFromIpAddressString(parts[0]);
    if (address == null) {
      throw new IllegalArgumentException("source_ip_cidr must be an IPv4 or IPv6 address or range, e.g. 10.0.0.0/8");
    }
    int bits = address.length * 8;
    if (parts.length == 2 && !parts[1].matches("\\d{1,3}")) {
      throw new IllegalArgumentException("source_ip_cidr has a bad prefix length: " + text.trim());
    }
    int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : bits;
    if (prefix > bits) {
      throw new IllegalArgumentException("source_ip_cidr prefix must be 0 to " + bits + ": " + text.trim());
    }
    if (prefix >= 96 && isIpv4Mapped(address)) {
      // Events store ::ffff:a.b.c.d as a.b.c.d; the range must be in the same family to match them.
      return new IpRange(masked(Arrays.copyOfRange(address, 12, 16), prefix - 96), prefix - 96);
    }
    return new IpRange(masked(address, prefix), prefix);
  }

  /** False for text that is not an address, and across families (::ffff:a.b.c.d counts as IPv4). */
  public boolean contains(String ip) {
    if (ip == null) {
      return false;
    }
    byte[] candidate = NetUtil.createByteArrayFromIpAddressString(ip);
    if (candidate != null && network.length == 4 && isIpv4Mapped(candidate)) {
      candidate = Arrays.copyOfRange(candidate, 12, 16);
    }
    return candidate != null && within(candidate, network, prefix);
  }

  /** Whether a resolved address lies in the range (Java already gives ::ffff:a.b.c.d as IPv4). */
  public boolean contains(InetAddress address) {
    return within(address.getAddress(), network, prefix);
  }

  /** Whether an address (bytes) lies in network/prefix: the same family and the first prefix bits. */
  private static boolean within(byte[] candidate, byte[] network, int prefix) {
    if (candidate.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    int mask = 0xFF << (8 - rest) & 0xFF;
    return rest == 0 || (candidate[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    return NetUtil.bytesToIpAddress(network) + "/" + prefix;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IpRange r && r.prefix == prefix && Arrays.equals(r.network, network);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(network) + prefix;
  }

  private static boolean isIpv4Mapped(byte[] a) {
    for (int i = 0; i < 10 && a.length == 16; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a.length == 16 && a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
  }

  private static byte[] masked(byte[] address, int prefix) {
    byte[] out = address.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] &= (byte) (0xFF << (8 - keep));
    }
    return out;
  }
}
