package io.keypulse.detect;

import io.keypulse.config.Config;

/**
 * A partner's detection policy: the node defaults (conf/keypulse.yaml, detect.*) with the fields the
 * partner changed through PUT /api/v1/policies. Per-key overrides live with the key's state.
 */
public record Policy(double signingSpikeMultiplier, double signingSpikeCriticalMultiplier, int signingSpikeMinCount,
                     double offHoursMaxSharePct, int offHoursMinHistory, int newSourceMinHistory,
                     int newSourceNetworkChurn, int newSourceLearningHours, double provisioningSpikeMultiplier, int provisioningSpikeMinCount,
                     int rotationPolicyDays, int suppressionMinutes, int learningHours, BusinessHours businessHours,
                     int retentionDays) {
  /** The shortest retention a partner may choose: a week of history is what detection learns from. */
  public static final int MIN_RETENTION_DAYS = 7;


  public static Policy defaults(Config.Detect d) {
    return new Policy(d.signingSpikeMultiplier(), d.signingSpikeCriticalMultiplier(), d.signingSpikeMinCount(),
        d.offHoursMaxSharePct(), d.offHoursMinHistory(), d.newSourceMinHistory(), d.newSourceNetworkChurn(), d.newSourceLearningHours(),
        d.provisioningSpikeMultiplier(), d.provisioningSpikeMinCount(), d.rotationPolicyDays(), d.suppressionMinutes(),
        d.learningHours(), null, d.retentionDays());
  }

  long learningMillis() {
    return learningHours * 3_600_000L;
  }

  long suppressionMillis() {
    return suppressionMinutes * 60_000L;
  }
}
