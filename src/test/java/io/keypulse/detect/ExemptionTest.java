package io.keypulse.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which findings an exemption mutes: every criterion given must match, the rest match anything. */
@DisplayName("Exemption matching")
class ExemptionTest {
  private static final long NOW = Instant.parse("2026-11-18T12:00:00Z").toEpochMilli();

  @Test
  @DisplayName("a rule-only exemption mutes every finding of that rule, and no other rule")
  void ruleOnly() {
    Exemption e = exemption("new_actor", null, null, null, null, null);
    assertThat(e.matches("new_actor", "any-key", null, null, NOW)).isTrue();
    assertThat(e.matches("new_source_ip", "any-key", null, null, NOW)).isFalse();
  }

  @Test
  @DisplayName("key_id is exact, key_prefix a prefix; an event without a key matches neither")
  void keys() {
    Exemption exact = exemption("policy_violation", "hot-1", null, null, null, null);
    assertThat(exact.matches("policy_violation", "hot-1", null, null, NOW)).isTrue();
    assertThat(exact.matches("policy_violation", "hot-10", null, null, NOW)).isFalse();
    Exemption prefix = exemption("policy_violation", null, "hot-", null, null, null);
    assertThat(prefix.matches("policy_violation", "hot-10", null, null, NOW)).isTrue();
    assertThat(prefix.matches("policy_violation", "cold-1", null, null, NOW)).isFalse();
    assertThat(prefix.matches("policy_violation", null, null, null, NOW)).isFalse();
  }

  @Test
  @DisplayName("a range matches IPv4 and IPv6 inside it; an event without an IP, or of the other family, does not")
  void ranges() {
    Exemption v4 = exemption("new_source_ip", null, null, "10.1.0.0/16", null, null);
    assertThat(v4.matches("new_source_ip", "k", "10.1.255.7", null, NOW)).isTrue();
    assertThat(v4.matches("new_source_ip", "k", "10.2.0.1", null, NOW)).isFalse();
    assertThat(v4.matches("new_source_ip", "k", null, null, NOW)).isFalse();
    assertThat(v4.matches("new_source_ip", "k", "::ffff:10.1.0.1", null, NOW)).as("mapped: the same address").isTrue();
    Exemption v6 = exemption("new_source_ip", null, null, "2001:db8:ab::/48", null, null);
    assertThat(v6.matches("new_source_ip", "k", "2001:db8:ab:1::9", null, NOW)).isTrue();
    assertThat(v6.matches("new_source_ip", "k", "2001:db8:ac::1", null, NOW)).isFalse();
    assertThat(v6.matches("new_source_ip", "k", "10.1.0.1", null, NOW)).isFalse();
    Exemption odd = exemption("new_source_ip", null, null, "192.168.128.0/17", null, null);
    assertThat(odd.matches("new_source_ip", "k", "192.168.200.1", null, NOW)).as("high bit in the partial byte").isTrue();
    assertThat(odd.matches("new_source_ip", "k", "192.168.127.1", null, NOW)).isFalse();
    Exemption any = exemption("new_source_ip", null, null, "0.0.0.0/0", null, null);
    assertThat(any.matches("new_source_ip", "k", "8.8.8.8", null, NOW)).isTrue();
  }

  @Test
  @DisplayName("actor is exact; an event without an actor does not match an actor criterion")
  void actors() {
    Exemption e = exemption("unauthorized_deletion", null, null, null, "ops", null);
    assertThat(e.matches("unauthorized_deletion", "k", null, "ops", NOW)).isTrue();
    assertThat(e.matches("unauthorized_deletion", "k", null, "Ops", NOW)).isFalse();
    assertThat(e.matches("unauthorized_deletion", "k", null, null, NOW)).isFalse();
  }

  @Test
  @DisplayName("every criterion must hold at once")
  void allCriteria() {
    Exemption e = exemption("policy_violation", "k1", null, "10.1.0.0/16", "ops", null);
    assertThat(e.matches("policy_violation", "k1", "10.1.2.3", "ops", NOW)).isTrue();
    assertThat(e.matches("policy_violation", "k2", "10.1.2.3", "ops", NOW)).isFalse();
    assertThat(e.matches("policy_violation", "k1", "10.9.2.3", "ops", NOW)).isFalse();
    assertThat(e.matches("policy_violation", "k1", "10.1.2.3", "dev", NOW)).isFalse();
  }

  @Test
  @DisplayName("an exemption mutes events before its expiry, by event time, and none from then on")
  void expiry() {
    Exemption e = exemption("critical_event", null, null, null, null, Instant.ofEpochMilli(NOW));
    assertThat(e.matches("critical_event", "k", null, null, NOW - 1)).isTrue();
    assertThat(e.matches("critical_event", "k", null, null, NOW)).isFalse();
  }

  @Test
  @DisplayName("ranges are normalised: host bits cleared, one address gets its full prefix, mapped IPv4 is IPv4")
  void normalised() {
    assertThat(IpRange.parse("10.1.2.3/16")).hasToString("10.1.0.0/16");
    assertThat(IpRange.parse(" 10.1.2.3 ")).hasToString("10.1.2.3/32");
    assertThat(IpRange.parse("2001:DB8:0:0:1::7/64")).hasToString("2001:db8::/64");
    assertThat(IpRange.parse("::1")).hasToString("::1/128");
    assertThat(IpRange.parse("::ffff:10.1.2.3/120")).hasToString("10.1.2.0/24");
    assertThat(IpRange.parse("10.0.0.0/8")).isEqualTo(IpRange.parse("10.255.0.0/8"));
    assertThatThrownBy(() -> IpRange.parse("10.0.0.0/33")).hasMessageContaining("0 to 32");
    assertThatThrownBy(() -> IpRange.parse("10.0.0/8")).hasMessageContaining("IPv4 or IPv6");
    assertThatThrownBy(() -> IpRange.parse("10.0.0.0/")).hasMessageContaining("bad prefix");
  }

  private static Exemption exemption(String rule, String keyId, String keyPrefix, String cidr, String actor,
                                     Instant expiresAt) {
    return new Exemption(1, "p_1", rule, keyId, keyPrefix, cidr == null ? null : IpRange.parse(cidr), actor, expiresAt,
        "test", 0, null, Instant.ofEpochMilli(NOW));
  }
}
