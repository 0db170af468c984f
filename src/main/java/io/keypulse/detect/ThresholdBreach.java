package io.keypulse.detect;

import java.util.List;

/**
 * Partner thresholds: events of a type per key over a sliding window (1h, 24h, 7d). A warning at
 * warn_at_pct, critical at 100 %, each at most once per window. The alert's rule is the threshold's name.
 */
final class ThresholdBreach implements Detector {
  static final String KIND = "threshold_breach";

  @Override
  public void check(Observation o, List<Finding> found) {
    for (Threshold th : o.thresholds()) {
      KeyState.ThresholdCounter counter = o.state().thresholds.get(th.id());
      if (counter == null || !th.matches(o.event().keyId(), o.event().eventType(), o.event().canonicalType())) {
        continue;
      }
      long count = counter.countAt(o.time());
      long window = counter.window.millis;
      if (count >= th.threshold() && since(o.time(), counter.lastBreachAt) >= window) {
        counter.lastBreachAt = o.time();
        found.add(finding(th, count, true));
      } else if (count >= th.warnAt() && count < th.threshold() && since(o.time(), counter.lastWarnAt) >= window) {
        counter.lastWarnAt = o.time();
        found.add(finding(th, count, false));
      }
    }
  }

  private static long since(long t, long last) {
    return last == KeyState.NEVER ? Long.MAX_VALUE : Math.abs(t - last);
  }

  private static Finding finding(Threshold th, long count, boolean breached) {
    long pct = Math.round(100.0 * count / th.threshold());
    String description = th.name() + " " + (breached ? "reached" : pct + "% reached") + ": " + count + " of "
        + th.threshold() + " " + th.eventType() + " in " + th.window();
    var evidence = Finding.evidence(th.warnAt(), count, th.threshold(), th.window())
        .put("rule_name", th.name()).put("threshold", th.threshold()).put("current", count)
        .put("warn_at_pct", th.warnAtPct()).put("threshold_id", th.id());
    return new Finding(th.name(), KIND, breached ? "critical" : "warning",
        breached ? Finding.CRITICAL_SCORE : Finding.WARNING_SCORE, description, evidence, false);
  }
}
