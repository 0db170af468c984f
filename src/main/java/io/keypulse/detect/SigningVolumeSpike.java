package io.keypulse.detect;

import java.util.List;

/**
 * signing_volume_spike: signings in the trailing 60 minutes at least 5× the key's hourly baseline
 * (the 168 whole hours before the current one, ÷ 168) and at least 20; critical from 10×. Below the
 * bar the ratio still raises the event's score a little. A key younger than the window is compared
 * with the hours it has lived, not with days of zeros before it existed (÷ 168 reads a two-day-old
 * key signing 20 an hour as a 5.6× spike).
 */
final class SigningVolumeSpike implements Detector {
  /** A key silent for a week is compared with one signing a week, not with zero. */
  private static final double FLOOR_RPH = 1.0 / 168;

  @Override
  public void check(Observation o, List<Finding> found) {
    if (!o.is("sign") || o.learning()) {
      return;
    }
    KeyState s = o.state();
    long hour = s.signHours.bucketOf(o.time());
    long lived = Math.max(1, Math.min(168, hour - s.signHours.bucketOf(s.firstEventAt)));
    double baseline = s.signHours.sum(hour - 168, hour - 1) / (double) lived;
    long minute = s.signMinutes.bucketOf(o.time());
    long trailing = s.signMinutes.sum(minute - 59, minute);
    double ratio = trailing / Math.max(baseline, FLOOR_RPH);
    Policy p = o.policy();
    if (ratio < p.signingSpikeMultiplier() || trailing < p.signingSpikeMinCount()) {
      double closeness = Math.min(0.99, Math.max(0, (ratio - 1) / (p.signingSpikeMultiplier() - 1)));
      found.add(Finding.scoreOnly("signing_volume_spike",
          0.6 * closeness * Math.min(1.0, trailing / (double) p.signingSpikeMinCount())));
      return;
    }
    boolean critical = ratio >= p.signingSpikeCriticalMultiplier();
    var evidence = Finding.evidence(Detector.round(baseline), trailing,
            Detector.round(Math.max(p.signingSpikeMultiplier() * baseline, p.signingSpikeMinCount())),
            "trailing 60 min vs hourly baseline of the previous 7 days")
        .put("baseline_rph", Detector.round(baseline)).put("current_rph", trailing).put("ratio", Detector.round(ratio))
        .put("multiplier", p.signingSpikeMultiplier()).put("critical_multiplier", p.signingSpikeCriticalMultiplier());
    double score = critical
        ? 0.9 + 0.1 * Math.min(1, (ratio - p.signingSpikeCriticalMultiplier()) / p.signingSpikeCriticalMultiplier())
        : 0.6 + 0.3 * (ratio - p.signingSpikeMultiplier())
            / (p.signingSpikeCriticalMultiplier() - p.signingSpikeMultiplier());
    found.add(new Finding("signing_volume_spike", Finding.ANOMALY, critical ? "critical" : "warning",
        Math.min(1.0, score), "Signing rate " + Detector.times(ratio) + " above 7-day baseline", evidence, true));
  }
}
