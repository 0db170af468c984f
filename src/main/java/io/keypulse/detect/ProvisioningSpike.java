package io.keypulse.detect;

/**
 * provisioning_spike: key creations per partner in the trailing hour at least 5× the partner's
 * hourly baseline over the previous 7 days, and at least 10; critical from twice that ratio.
 */
final class ProvisioningSpike {
  static final String RULE = "provisioning_spike";
  private static final double FLOOR_PER_HOUR = 1.0 / 168;

  private ProvisioningSpike() {}

  /** Null when creations look normal (or the partner's history is still too short to tell). */
  static Finding check(PartnerState s, long t, Policy p) {
    if (s.lastCreateAt - s.firstCreateAt < p.learningMillis()) {
      return null;
    }
    long hour = s.hours.bucketOf(t);
    double baseline = s.hours.sum(hour - 168, hour - 1) / 168.0;
    long minute = s.minutes.bucketOf(t);
    long trailing = s.minutes.sum(minute - 59, minute);
    double ratio = trailing / Math.max(baseline, FLOOR_PER_HOUR);
    if (ratio < p.provisioningSpikeMultiplier() || trailing < p.provisioningSpikeMinCount()) {
      return null;
    }
    boolean critical = ratio >= 2 * p.provisioningSpikeMultiplier();
    return Finding.anomaly(RULE, critical, "Key creations " + Detector.times(ratio) + " above 7-day baseline",
        Finding.evidence(Detector.round(baseline), trailing,
                Detector.round(Math.max(p.provisioningSpikeMultiplier() * baseline, p.provisioningSpikeMinCount())),
                "trailing 60 min vs hourly baseline of the previous 7 days")
            .put("baseline_per_hour", Detector.round(baseline)).put("current_per_hour", trailing)
            .put("ratio", Detector.round(ratio)));
  }
}
