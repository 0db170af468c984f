package io.keypulse.detect;

import java.util.List;

/**
 * signing_volume_spike: signings in the trailing 60 minutes at least 5× what this key usually does
 * at this time ({@link SeasonalBaseline}) and at least 20; critical from 10×. Below the bar the ratio
 * still raises the event's score a little. The evidence names the expectation, the profile it came
 * from and the days it was built from, so that a human can judge it.
 */
final class SigningVolumeSpike implements Detector {
  static final String RULE = "signing_volume_spike";
  /** A key that never signs at this hour is compared with one signing a week, not with zero. */
  private static final double FLOOR_RPH = 1.0 / 168;
  /** Below this many signings in the hour the score stays under the floor the store keeps anyway. */
  private static final int SCORED_FROM = 4;

  @Override
  public void check(Observation o, List<Finding> found) {
    if (!o.is("sign") || o.signingLearning()) {
      return;
    }
    long trailing = o.state().signing.trailingHour(o.time());
    if (trailing < SCORED_FROM) {
      return;
    }
    SeasonalBaseline b = o.baseline();
    double ratio = trailing / Math.max(b.expectedRph(), FLOOR_RPH);
    Policy p = o.policy();
    if (ratio < p.signingSpikeMultiplier() || trailing < p.signingSpikeMinCount()) {
      double closeness = Math.min(0.99, Math.max(0, (ratio - 1) / (p.signingSpikeMultiplier() - 1)));
      found.add(Finding.scoreOnly(RULE, 0.6 * closeness * Math.min(1.0, trailing / (double) p.signingSpikeMinCount())));
      return;
    }
    boolean critical = ratio >= p.signingSpikeCriticalMultiplier();
    b = o.baselineEvidence();
    double expected = Detector.round(b.expectedRph());
    var evidence = Finding.evidence(expected, trailing,
            Detector.round(Math.max(p.signingSpikeMultiplier() * b.expectedRph(), p.signingSpikeMinCount())),
            "trailing 60 min vs " + describe(b))
        .put("expected_rph", expected).put("profile", b.profile()).put("day_class", b.dayClass())
        .put("days", b.daysJson()).put("samples", b.samplesJson())
        .put("baseline_rph", expected).put("current_rph", trailing).put("ratio", Detector.round(ratio))
        .put("multiplier", p.signingSpikeMultiplier()).put("critical_multiplier", p.signingSpikeCriticalMultiplier());
    double score = critical
        ? 0.9 + 0.1 * Math.min(1, (ratio - p.signingSpikeCriticalMultiplier()) / p.signingSpikeCriticalMultiplier())
        : 0.6 + 0.3 * (ratio - p.signingSpikeMultiplier())
            / (p.signingSpikeCriticalMultiplier() - p.signingSpikeMultiplier());
    found.add(new Finding(RULE, Finding.ANOMALY, critical ? "critical" : "warning", Math.min(1.0, score),
        "Signing rate " + Detector.times(ratio) + " above " + usual(b), evidence, true));
  }

  /** How the description names the expectation. */
  private static String usual(SeasonalBaseline b) {
    return switch (b.profile()) {
      case "flat" -> "7-day baseline";
      case "hour_of_week" -> "usual for this hour of the week";
      default -> "usual for this hour" + ("all".equals(b.dayClass()) ? "" : " on " + b.dayClass() + "s");
    };
  }

  private static String describe(SeasonalBaseline b) {
    return switch (b.profile()) {
      case "flat" -> "hourly baseline of the previous 7 days";
      case "hour_of_week" -> "the same hour on the same weekday, 1 and 2 weeks back, and the "
          + (b.dayClass()) + " median of " + b.days().length + " days";
      default -> "upper median of the same hour on " + b.days().length + " previous "
          + ("all".equals(b.dayClass()) ? "days" : b.dayClass() + "s");
    };
  }
}
