package io.keypulse.detect;

import java.util.List;

/**
 * Alerts the partner asked for in the event itself: policy_violation on every policy event
 * (critical when the event is), critical_event on every event ingested as critical.
 */
final class ReportedEvents implements Detector {

  @Override
  public void check(Observation o, List<Finding> found) {
    var e = o.event();
    boolean reportedCritical = "critical".equals(e.severity()) && !e.severityDerived();
    if (o.is("policy")) {
      String policy = e.policy() != null ? e.policy() : e.eventType();
      found.add(Finding.anomaly("policy_violation", reportedCritical, "Policy violation reported: " + policy,
          Finding.evidence(null, policy, "every policy event", "event")));
    }
    if (reportedCritical) {
      found.add(Finding.anomaly("critical_event", true, "Event reported as critical: " + e.eventType(),
          Finding.evidence(null, e.eventType(), "severity critical", "event")));
    }
  }
}
