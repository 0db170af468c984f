package io.keypulse.detect;

import java.util.List;

/** What the shards need of a partner: its effective policy and its active thresholds. */
public record PartnerSettings(Policy policy, List<Threshold> thresholds) {}
