package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every key-level detector on one event, then decides what becomes an alert: one incident per
 * (key, rule) per suppression window. Inside the window a finding at the same or a lower severity
 * is a repeat (counted on the open alert); a higher one escalates that alert in place. A finding a
 * partner exception matches raises nothing, though it still scores the event. Pure logic on a key's
 * state: no I/O, so tests and benchmarks drive it directly.
 */
final class KeyDetector {
  private final List<Detector> detectors = List.of(new SigningVolumeSpike(), new OffHoursSigning(), NewSource.ip(),
      NewSource.actor(), new UnauthorizedDeletion(), new ReportedEvents(), new RotationOverdue(), new ThresholdBreach());

  /**
   * What came of one event: its score, the alerts to raise, the repeats to count, the open alerts to
   * escalate, and the exceptions that muted a finding (one id per muted finding).
   */
  record Outcome(double score, List<Finding> alerts, List<Finding> repeats, List<Finding> escalations,
                 List<Long> mutedBy) {}

  Outcome detect(EventFacts e, KeyState s, Policy policy, List<Threshold> thresholds, long wallClock) {
    return detect(e, s, policy, thresholds, Mutes.NONE, wallClock, false);
  }

  /**
   * {@code alreadyApplied}: the state already holds the event (a checkpoint taken before its score
   * was written); judge it as it stands rather than count it twice.
   */
  Outcome detect(EventFacts e, KeyState s, Policy policy, List<Threshold> thresholds, Mutes mutes, long wallClock,
                 boolean alreadyApplied) {
    boolean ipKnown = e.sourceIp() != null && s.ips.contains(e.sourceIp());
    boolean actorKnown = e.actor() != null && s.actors.contains(e.actor());
    int networkAddresses = 0;
    if (e.sourceIp() != null && !ipKnown) {
      SourceNetworks.Network network = SourceNetworks.Network.of(e.sourceIp());
      networkAddresses = network == null ? 0 : s.networks.addresses(network, e.occurredAt());
    }
    long history = s.eventCount;
    long lastSign = s.lastSignAt();
    if (!alreadyApplied) {
      s.apply(e, thresholds);
    }
    Observation o = new Observation(e, s, policy, thresholds, ipKnown, actorKnown, networkAddresses, history, lastSign,
        wallClock);
    List<Finding> found = new ArrayList<>(2);
    for (Detector d : detectors) {
      d.check(o, found);
    }
    return settle(s, policy, e, mutes, wallClock, found);
  }

  static Outcome settle(KeyState s, Policy policy, EventFacts e, Mutes mutes, long wallClock, List<Finding> found) {
    double score = 0;
    List<Finding> alerts = new ArrayList<>();
    List<Finding> repeats = new ArrayList<>();
    List<Finding> escalations = new ArrayList<>();
    List<Long> muted = new ArrayList<>();
    long t = e.occurredAt();
    for (Finding f : found) {
      score = Math.max(score, f.score());
      if (!f.alerts()) {
        continue;
      }
      Long exception = mutes.mutedBy(f.rule(), e);
      if (exception != null) {
        muted.add(exception);
        continue;
      }
      KeyState.Incident open = f.suppressible() ? s.incidents.get(f.rule()) : null;
      if (open != null && Math.abs(t - open.raisedAt) < policy.suppressionMillis()) {
        if (rank(f.severity()) > rank(open.severity)) {
          open.severity = f.severity();
          escalations.add(f);
        } else {
          repeats.add(f);
        }
        continue;
      }
      if (f.suppressible()) {
        s.open(f.rule(), new KeyState.Incident(t, f.severity()));
      }
      if (RotationOverdue.RULE.equals(f.rule())) {
        s.rotationAlertedAt = wallClock;
      }
      alerts.add(f);
    }
    return new Outcome(Math.min(1.0, score), alerts, repeats, escalations, muted);
  }

  static int rank(String severity) {
    return "critical".equals(severity) ? 2 : "warning".equals(severity) ? 1 : 0;
  }
}
