package io.keypulse.detect;

import java.util.List;

/** What the shards need of a partner: its effective policy, its active thresholds and exemptions. */
public record PartnerSettings(Policy policy, List<Threshold> thresholds, List<Exemption> exemptions) {

  /** The exemptions as detection asks them: the first that matches a finding, by event time. */
  Mutes mutes() {
    if (exemptions.isEmpty()) {
      return Mutes.NONE;
    }
    return (rule, e) -> {
      for (Exemption x : exemptions) {
        if (x.matches(rule, e.keyId(), e.sourceIp(), e.actor(), e.occurredAt())) {
          return x.id();
        }
      }
      return null;
    };
  }
}
