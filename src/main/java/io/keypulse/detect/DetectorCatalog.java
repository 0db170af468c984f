package io.keypulse.detect;

import java.util.List;

/**
 * The built-in detector rules as partners see them: the rule id alerts carry, one sentence on what
 * fires it, and the policy fields (PUT /api/v1/policies) that tune it. Exceptions name these rules
 * (or a threshold's name), and GET /api/v1/detectors lists them in this order.
 */
public final class DetectorCatalog {
  private static final String SUPPRESSION = "suppression_minutes";

  /** One detector rule. */
  public record Entry(String rule, String description, List<String> settings) {}

  public static final List<Entry> ALL = List.of(
      new Entry("signing_volume_spike", "Signings in the trailing hour far above what this key normally does at "
          + "this time.", List.of("signing_spike_multiplier", "signing_spike_critical_multiplier",
          "signing_spike_min_count", "learning_hours", SUPPRESSION)),
      new Entry("off_hours_signing", "A signing at an hour of the day this key does not use, or outside its business hours.",
          List.of("off_hours_max_share_pct", "off_hours_min_history", "business_hours", "learning_hours", SUPPRESSION)),
      new Entry("new_source_ip", "An access, export or signing from an IP never seen for the key, outside the "
          + "networks where it churns through addresses.",
          List.of("new_source_min_history", "new_source_learning_hours", "new_source_network_churn", SUPPRESSION)),
      new Entry("new_actor", "An access, export or signing by an actor never seen for the key.",
          List.of("new_source_min_history", "new_source_learning_hours", SUPPRESSION)),
      new Entry("unauthorized_deletion", "A deletion by an unknown actor, or of a key that signed in the last 24 h.",
          List.of(SUPPRESSION)),
      new Entry("provisioning_spike", "Key creations in the trailing hour far above the partner's usual rate.",
          List.of("provisioning_spike_multiplier", "provisioning_spike_min_count", "learning_hours", SUPPRESSION)),
      new Entry("policy_violation", "Every policy event the partner reports.", List.of(SUPPRESSION)),
      new Entry("critical_event", "Every event the partner ingests with severity critical.", List.of(SUPPRESSION)),
      new Entry("rotation_overdue", "A key not rotated within its rotation policy, at most once a day per key.",
          List.of("rotation_policy_days")));

  private DetectorCatalog() {}

  public static boolean isRule(String rule) {
    return ALL.stream().anyMatch(e -> e.rule().equals(rule));
  }

  public static List<String> rules() {
    return ALL.stream().map(Entry::rule).toList();
  }
}
