package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Client addresses for per-address budgets")
class ClientAddressTest {

  @Test
  @DisplayName("IPv6 clients are counted by their /64, whatever the textual form")
  void ipv6ByPrefix() {
    assertThat(ClientAddress.ipv6Prefix("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).isEqualTo("2001:db8:1:2::/64");
    assertThat(ClientAddress.ipv6Prefix("2001:0db8:0001:0002::1")).isEqualTo("2001:db8:1:2::/64");
    assertThat(ClientAddress.ipv6Prefix("2001:db8::1")).isEqualTo("2001:db8:0:0::/64");
    assertThat(ClientAddress.ipv6Prefix("::1")).isEqualTo("0:0:0:0::/64");
    assertThat(ClientAddress.ipv6Prefix("fe80::1%eth0")).isEqualTo("fe80:0:0:0::/64");
    assertThat(ClientAddress.ipv6Prefix("0:0:0:0:0:0:0:1")).isEqualTo("0:0:0:0::/64");
  }
}
