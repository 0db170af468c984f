package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.detect.IpRange;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Webhook addresses: which may be called")
class AddressPolicyTest {
  /** Address refused by default, and what the refusal must say. */
  private static final Map<String, String> REFUSED = new LinkedHashMap<>();
  /** Public, IPv6 forms of public IPv4 addresses included. */
  private static final List<String> PUBLIC = List.of("93.184.215.14", "1.1.1.1", "2606:4700:4700::1111",
      "64:ff9b::93.184.215.14", "2002:5db8:d70e::1", "2001:0:4136:e378:8000:63bf:a247:28f1", "::93.184.215.14",
      "::ffff:0:93.184.215.14", "2001:4860:4860::8888");
  /** Every IPv6 form of 127.0.0.1. */
  private static final List<String> LOOPBACK_FORMS = List.of("::127.0.0.1", "::7f00:1", "::ffff:127.0.0.1",
      "::ffff:0:127.0.0.1", "2002:7f00:1::", "2002:7f00:1:ffff::9", "2001:0:4136:e378:8000:63bf:80ff:fffe",
      "64:ff9b::127.0.0.1", "64:ff9b::7f00:1");

  static {
    REFUSED.put("127.0.0.1", "a loopback address 127.0.0.1");
    REFUSED.put("::1", "a loopback address ::1");
    REFUSED.put("::127.0.0.1", "a loopback address 127.0.0.1 inside ::7f00:1");
    REFUSED.put("::7f00:1", "a loopback address 127.0.0.1 inside ::7f00:1");
    REFUSED.put("::ffff:127.0.0.1", "a loopback address 127.0.0.1");
    REFUSED.put("::ffff:0:127.0.0.1", "a loopback address 127.0.0.1 inside ::ffff:0:7f00:1");
    REFUSED.put("::ffff:0:10.1.2.3", "a private address 10.1.2.3 inside");
    REFUSED.put("2002:7f00:1::", "a loopback address 127.0.0.1 inside 2002:7f00:1::");
    REFUSED.put("2002:a9fe:a9fe::1", "a link-local (metadata) address 169.254.169.254 inside");
    REFUSED.put("2002:c0a8:101::", "a private address 192.168.1.1 inside");
    REFUSED.put("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address 127.0.0.1 inside 2001:0:4136:e378");
    REFUSED.put("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a private address 10.0.0.1 inside");
    REFUSED.put("2001:0:4136:e378:8000:63bf:5601:5601", "a link-local (metadata) address 169.254.169.254 inside");
    REFUSED.put("64:ff9b::7f00:1", "a loopback address 127.0.0.1 inside 64:ff9b::7f00:1");
    REFUSED.put("64:ff9b::169.254.169.254", "a link-local (metadata) address 169.254.169.254 inside");
    REFUSED.put("64:ff9b::100.64.0.1", "a carrier-grade NAT address 100.64.0.1 inside");
    REFUSED.put("64:ff9b:1::5db8:d70e", "a reserved address 64:ff9b:1::5db8:d70e");
    REFUSED.put("64:ff9b:1:5db8:d7:e00::", "a reserved address");
    REFUSED.put("::", "an unspecified address ::");
    REFUSED.put("::2", "an unspecified address 0.0.0.2 inside ::2");
    REFUSED.put("0.0.0.0", "an unspecified address 0.0.0.0");
    REFUSED.put("255.255.255.255", "a reserved address 255.255.255.255");
    REFUSED.put("240.0.0.1", "a reserved address");
    REFUSED.put("10.0.0.1", "a private address 10.0.0.1");
    REFUSED.put("172.31.255.255", "a private address");
    REFUSED.put("192.168.0.1", "a private address");
    REFUSED.put("169.254.169.254", "a link-local (metadata) address 169.254.169.254");
    REFUSED.put("100.64.0.1", "a carrier-grade NAT address 100.64.0.1");
    REFUSED.put("100.127.255.255", "a carrier-grade NAT address");
    REFUSED.put("198.18.0.1", "a reserved address 198.18.0.1");
    REFUSED.put("198.19.255.255", "a reserved address");
    REFUSED.put("192.0.0.8", "a reserved address");
    REFUSED.put("192.88.99.1", "a reserved address");
    REFUSED.put("192.0.2.1", "a documentation address");
    REFUSED.put("198.51.100.7", "a documentation address");
    REFUSED.put("203.0.113.9", "a documentation address");
    REFUSED.put("224.0.0.1", "a multicast address");
    REFUSED.put("fc00::1", "a private address fc00::1");
    REFUSED.put("fd12:3456::1", "a private address");
    REFUSED.put("fec0::1", "a private address");
    REFUSED.put("fe80::1", "a link-local (metadata) address fe80::1");
    REFUSED.put("fe80::a9fe:a9fe", "a link-local (metadata) address");
    REFUSED.put("ff02::1", "a multicast address");
    REFUSED.put("ff0e::1", "a multicast address");
    REFUSED.put("100::1", "a reserved address 100::1");
    REFUSED.put("2001:2::1", "a reserved address");
    REFUSED.put("2001:db8::1", "a documentation address 2001:db8::1");
    REFUSED.put("3fff::1", "a documentation address");
    REFUSED.put("5f00::1", "a reserved address");
  }

  @Test
  @DisplayName("loopback, private, link-local, multicast, reserved and documentation addresses are refused, named")
  void refused() {
    AddressPolicy policy = new AddressPolicy(List.of());
    REFUSED.forEach((address, reason) -> assertThat(policy.refusal(address(address))).as(address).startsWith(reason));
  }

  @Test
  @DisplayName("public addresses pass, in IPv4 and IPv6, and IPv6 forms of a public IPv4 address")
  void publicAddresses() {
    AddressPolicy policy = new AddressPolicy(List.of());
    PUBLIC.forEach(address -> assertThat(policy.refusal(address(address))).as(address).isNull());
  }

  @Test
  @DisplayName("an IPv6 form of an IPv4 address is judged as that address, allow list included")
  void embeddedJudgedAsIpv4() {
    AddressPolicy byDefault = new AddressPolicy(List.of());
    AddressPolicy loopbackAllowed = new AddressPolicy(List.of(IpRange.parse("127.0.0.0/8")));
    LOOPBACK_FORMS.forEach(address -> {
      assertThat(byDefault.refusal(address(address))).as(address).startsWith("a loopback address 127.0.0.1");
      assertThat(loopbackAllowed.refusal(address(address))).as(address).isNull();
    });
    assertThat(loopbackAllowed.refusal(address("::1"))).contains("loopback");
    assertThat(loopbackAllowed.refusal(address("64:ff9b::10.0.0.1"))).contains("private address 10.0.0.1");
    assertThat(loopbackAllowed.refusal(address("2002:7f00:1::"))).isNull();
    assertThat(loopbackAllowed.refusal(address("2002:a00:1::"))).contains("private address 10.0.0.1");
  }

  @Test
  @DisplayName("an allowed IPv6 range admits its addresses, such as a site's own NAT64 prefix")
  void ipv6RangeAllowed() {
    AddressPolicy policy = new AddressPolicy(List.of(IpRange.parse("64:ff9b:1::/48"), IpRange.parse("fd00::/8")));
    assertThat(policy.refusal(address("64:ff9b:1::5db8:d70e"))).isNull();
    assertThat(policy.refusal(address("fd00::1"))).isNull();
    assertThat(policy.refusal(address("fc00::1"))).contains("private");
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }
}
