package io.keypulse.detect;

import java.util.List;

/** What the shards need of a partner: its effective policy, its active thresholds and exemptions. */
public record PartnerSettings(Policy policy, List<Threshold> thresholds, List<Exemption> exemptions) {}
