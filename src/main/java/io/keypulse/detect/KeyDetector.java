package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every key-level detector on one event, then decides what becomes an alert: per (key, rule,
 * severity) an alert is raised at most once per suppression window; repeats are counted instead.
 * Pure logic on a key's state: no I/O, so tests and benchmarks drive it directly.
 */
final class KeyDetector {
  private final List<Detector> detectors = List.of(new SigningVolumeSpike(), new OffHoursSigning(), NewSource.ip(),
      NewSource.actor(), new UnauthorizedDeletion(), new ReportedEvents(), new RotationOverdue(), new ThresholdBreach());

  /** What came of one event: its score, the alerts to raise and the repeats to count. */
  record Outcome(double score, List<Finding> alerts, List<Finding> repeats) {}

  Outcome detect(EventFacts e, KeyState s, Policy policy, List<Threshold> thresholds, long wallClock) {
    return detect(e, s, policy, thresholds, wallClock, false);
  }

  /**
   * {@code alreadyApplied}: the state already holds the event (a checkpoint taken before its score
   * was written); judge it as it stands rather than count it twice.
   */
  Outcome detect(EventFacts e, KeyState s, Policy policy, List<Threshold> thresholds, long wallClock,
                 boolean alreadyApplied) {
    boolean ipKnown = e.sourceIp() != null && s.ips.contains(e.sourceIp());
    boolean actorKnown = e.actor() != null && s.actors.contains(e.actor());
    long history = s.eventCount;
    long lastSign = s.lastSignAt;
    if (!alreadyApplied) {
      s.apply(e, thresholds);
    }
    Observation o = new Observation(e, s, policy, thresholds, ipKnown, actorKnown, history, lastSign, wallClock);
    List<Finding> found = new ArrayList<>();
    for (Detector d : detectors) {
      d.check(o, found);
    }
    return settle(s, policy, e.occurredAt(), wallClock, found);
  }

  static Outcome settle(KeyState s, Policy policy, long t, long wallClock, List<Finding> found) {
    double score = 0;
    List<Finding> alerts = new ArrayList<>();
    List<Finding> repeats = new ArrayList<>();
    for (Finding f : found) {
      score = Math.max(score, f.score());
      if (!f.alerts()) {
        continue;
      }
      String key = f.rule() + "/" + f.severity();
      Long last = s.lastFired.get(key);
      if (f.suppressible() && last != null && Math.abs(t - last) < policy.suppressionMillis()) {
        repeats.add(f);
        continue;
      }
      s.lastFired.put(key, t);
      if (RotationOverdue.RULE.equals(f.rule())) {
        s.rotationAlertedAt = wallClock;
      }
      alerts.add(f);
    }
    return new Outcome(Math.min(1.0, score), alerts, repeats);
  }
}
