package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

/**
 * One event as the detectors see it: the key's state after the event was applied, and the facts
 * that only the state before it could tell (was this IP or actor known, how many addresses the key
 * had used in the IP's network, how much history was there).
 */
record Observation(EventFacts event, KeyState state, Policy policy, List<Threshold> thresholds, boolean ipKnown,
                   boolean actorKnown, int networkAddresses, long historyBefore, long lastSignBefore,
                   long wallClock) {

  long time() {
    return event.occurredAt();
  }

  boolean is(String canonicalType) {
    return canonicalType.equals(event.canonicalType());
  }

  boolean signingLearning() {
    return state.signingLearning(policy);
  }

  BusinessHours businessHours() {
    return state.businessHours != null ? state.businessHours : policy.businessHours();
  }

  /** Weekdays and weekends are the key's own when it has business hours, else UTC's. */
  SeasonalBaseline baseline() {
    return state.baseline(time(), zone());
  }

  /** The same with the days and samples it was built from, for an alert's evidence. */
  SeasonalBaseline baselineEvidence() {
    return SeasonalBaseline.of(state.signing, time(), zone(), true);
  }

  private ZoneId zone() {
    BusinessHours hours = businessHours();
    return hours == null ? ZoneOffset.UTC : hours.zone();
  }

  int rotationDays() {
    return state.rotationPolicyDays != null ? state.rotationPolicyDays : policy.rotationPolicyDays();
  }
}
