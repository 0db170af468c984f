package io.keypulse.delivery;

import inet.ipaddr.ipv4.IPv4Address;
import inet.ipaddr.ipv6.IPv6Address;
import io.keypulse.detect.IpRange;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which addresses a webhook may reach: public ones, and any in webhook.allowed_cidrs. An IPv6 address
 * that carries an IPv4 one (IPv4-compatible, -mapped or -translated, 6to4, Teredo, NAT64 64:ff9b::/96)
 * is judged exactly as that IPv4 address, allow list included: a tunnel or translator delivers the
 * request there. An IPv6 range in the allow list admits its own addresses without that step.
 */
final class AddressPolicy {
  private record Kind(String name, List<IpRange> ranges) {
    Kind(String name, String... ranges) {
      this(name, Stream.of(ranges).map(IpRange::parse).toList());
    }
  }

  /** Not public hosts (the IANA special-purpose registries), in the order a refusal names them. */
  private static final List<Kind> REFUSED = List.of(
      new Kind("a loopback", "127.0.0.0/8", "::1/128"),
      new Kind("a link-local (metadata)", "169.254.0.0/16", "fe80::/10"),
      new Kind("a private", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10"),
      new Kind("a carrier-grade NAT", "100.64.0.0/10"),
      new Kind("a multicast", "224.0.0.0/4", "ff00::/8"),
      new Kind("an unspecified", "0.0.0.0/8", "::/128"),
      new Kind("a documentation", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"),
      // 240/4 holds the broadcast address. 64:ff9b:1::/48 is a site's own NAT64, whose IPv4 may sit at
      // any of six places. Teredo (2001::/32) addresses are judged by their client before this.
      new Kind("a reserved", "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4", "64:ff9b:1::/48",
          "100::/64", "2001::/23", "5f00::/16"));

  private final List<IpRange> allowed;

  AddressPolicy(List<IpRange> allowed) {
    this.allowed = allowed;
  }

  /** Null if the address may be called, else what it is, e.g. "a loopback address 127.0.0.1". */
  String refusal(InetAddress address) {
    if (allowed.stream().anyMatch(range -> range.contains(address))) {
      return null;
    }
    InetAddress ipv4 = embeddedIpv4(address);
    if (ipv4 != null) {
      String refusal = refusal(ipv4);
      return refusal == null ? null : refusal + " inside " + NetUtil.toAddressString(address);
    }
    return REFUSED.stream().filter(kind -> kind.ranges().stream().anyMatch(range -> range.contains(address)))
        .findFirst().map(kind -> kind.name() + " address " + NetUtil.toAddressString(address)).orElse(null);
  }

  /** The IPv4 address that an IPv6 one routes to by its form, or null. */
  private static InetAddress embeddedIpv4(InetAddress address) {
    if (!(address instanceof Inet6Address v6)) {
      return null;
    }
    IPv6Address a = new IPv6Address(v6);
    if (a.isTeredo()) {
      // The client's address sits in the last 32 bits, inverted (RFC 4380).
      return new IPv4Address(~a.getEmbeddedIPv4Address().intValue()).toInetAddress();
    }
    if (a.is6To4()) {
      return a.get6To4IPv4Address().toInetAddress();
    }
    boolean lastBits = a.isIPv4Mapped() || a.isIPv4Translatable() || a.isWellKnownIPv4Translatable()
        || a.isIPv4Compatible() && !a.isLoopback() && !a.isUnspecified();
    return lastBits ? a.getEmbeddedIPv4Address().toInetAddress() : null;
  }
}
