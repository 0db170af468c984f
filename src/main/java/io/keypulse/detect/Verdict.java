package io.keypulse.detect;

import java.time.Instant;
import java.util.List;

/**
 * What detection decided, to be written with others in one transaction.
 *
 * @param eventId          the scored event, or null for an alert from the scheduler
 * @param derivedSeverity  the severity the score implies, for events ingested without one; else null
 * @param repeats          findings suppressed as repeats: counted on the key's latest alert of that rule
 */
record Verdict(Long eventId, String partnerId, String keyId, double score, String derivedSeverity,
               List<Finding> alerts, List<Finding> repeats, Instant triggeredAt) {

  static String severityOf(double score) {
    return score >= 0.9 ? "critical" : score >= 0.6 ? "warning" : "nominal";
  }
}
