package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import io.keypulse.bus.ProvisionVerdict;
import io.keypulse.bus.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
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

  /**
   * What one detected event leaves to write: its outcome, with the partner-level provisioning
   * finding its creation drew, if any (muted, raised or counted like the key's own). Null when
   * there is nothing to write: a score under {@code floor} and no alert, repeat or escalation.
   */
  static Verdict of(EventFacts e, KeyDetector.Outcome outcome, ProvisionVerdict provisioning, Mutes mutes,
                    double floor) {
    List<Finding> alerts = new ArrayList<>(outcome.alerts());
    List<Finding> repeats = new ArrayList<>(outcome.repeats());
    List<Long> muted = new ArrayList<>(outcome.mutedBy());
    double score = outcome.score();
    if (!"none".equals(provisioning.outcome())) {
      Finding f = Finding.fromJson(provisioning.finding());
      Long exception = mutes.mutedBy(f.rule(), e);
      if (exception != null) {
        muted.add(exception);
      } else {
        ("alert".equals(provisioning.outcome()) ? alerts : repeats).add(f);
      }
      score = Math.max(score, f.score());
    }
    // Rounded before the severity is derived from it: a partner reading 0.9 sees critical.
    score = StoredEvent.score(score);
    if (score < floor && alerts.isEmpty() && repeats.isEmpty() && muted.isEmpty() && outcome.escalations().isEmpty()) {
      return null;
    }
    return new Verdict(e.id(), e.partnerId(), e.keyId(), score, e.severityDerived() ? DerivedSeverity.of(score) : null, alerts,
        repeats, outcome.escalations(), muted, Instant.ofEpochMilli(e.occurredAt()));
  }

  static Verdict alertOnly(String partnerId, String keyId, Finding f, Instant at) {
    return new Verdict(null, partnerId, keyId, 0, null, List.of(f), List.of(), List.of(), List.of(), at);
  }
}
