package io.keypulse.delivery;

import io.keypulse.detect.IpRange;
import io.netty.util.NetUtil;
import java.net.InetAddress;

/** An address range, IPv4 or IPv6: "10.0.0.0/8", "fe80::/10", or one address. */
public record Cidr(byte[] network, int prefix) {

  static Cidr parse(String text) {
    String[] parts = text.trim().split("/", 2);
    byte[] address = NetUtil.createByteArrayFromIpAddressString(parts[0]);
    if (address == null) {
      throw new IllegalArgumentException("not an address range: " + text);
    }
    if (parts.length == 2 && !parts[1].matches("\\d{1,3}")) {
      throw new IllegalArgumentException("bad prefix length in " + text);
    }
    int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
    if (prefix > address.length * 8) {
      throw new IllegalArgumentException("bad prefix length in " + text);
    }
    return new Cidr(address, prefix);
  }

  boolean contains(InetAddress address) {
    return IpRange.within(address.getAddress(), network, prefix);
  }
}
