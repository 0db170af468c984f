package io.keypulse.api;

import io.vertx.core.net.SocketAddress;

/**
 * The client a per-address budget or connection cap counts: the IPv4 address, or the IPv6 /64 it
 * belongs to (one subscriber holds a whole /64, so counting single IPv6 addresses would give an
 * attacker 2^64 budgets).
 */
final class ClientAddress {
  private ClientAddress() {}

  static String of(SocketAddress address) {
    if (address == null || address.hostAddress() == null) {
      return "unknown";
    }
    String host = address.hostAddress();
    return host.indexOf(':') < 0 ? host : ipv6Prefix(host);
  }

  /** The first four groups of an IPv6 address in any textual form ("::" expanded), as "a:b:c:d::/64". */
  static String ipv6Prefix(String host) {
    int zone = host.indexOf('%');
    String text = zone < 0 ? host : host.substring(0, zone);
    String[] head;
    int elided = text.indexOf("::");
    if (elided < 0) {
      head = text.split(":");
    } else {
      String[] left = elided == 0 ? new String[0] : text.substring(0, elided).split(":");
      String[] right = elided + 2 >= text.length() ? new String[0] : text.substring(elided + 2).split(":");
      head = new String[8];
      for (int i = 0; i < 8; i++) {
        head[i] = i < left.length ? left[i] : i >= 8 - right.length ? right[i - (8 - right.length)] : "0";
      }
    }
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      String group = i < head.length ? head[i] : "0";
      prefix.append(Integer.toHexString(group.isEmpty() ? 0 : Integer.parseInt(group, 16))).append(':');
    }
    return prefix.append(":/64").toString();
  }
}
