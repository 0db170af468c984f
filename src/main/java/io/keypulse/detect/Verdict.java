package io.keypulse.detect;

import java.time.Instant;
import java.util.List;

/**
 * What detection decided, to be written with others in one transaction.
 *
 * @param eventId          the scored event, or null for an alert from the scheduler
 * @param derivedSeverity  the severity the score implies, for events ingested without one; else null
 * @param repeats          findings suppressed as repeats: counted on the key's latest alert of that rule
 * @param escalations      findings that raise the key's open alert of that rule to their severity
 * @param mutedBy          the partner exceptions that muted a finding, one id per finding
 */
record Verdict(Long eventId, String partnerId, String keyId, double score, String derivedSeverity,
               List<Finding> alerts, List<Finding> repeats, List<Finding> escalations, List<Long> mutedBy,
               Instant triggeredAt) {

  static Verdict alertOnly(String partnerId, String keyId, Finding f, Instant at) {
    return new Verdict(null, partnerId, keyId, 0, null, List.of(f), List.of(), List.of(), List.of(), at);
  }

  static String severityOf(double score) {
    return score >= 0.9 ? "critical" : score >= 0.6 ? "warning" : "nominal";
  }
}
