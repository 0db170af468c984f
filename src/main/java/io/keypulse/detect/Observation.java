package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.util.List;

/**
 * One event as the detectors see it: the key's state after the event was applied, and the facts
 * that only the state before it could tell (was this IP or actor known, how much history was there).
 */
record Observation(EventFacts event, KeyState state, Policy policy, List<Threshold> thresholds, boolean ipKnown,
                   boolean actorKnown, long historyBefore, long lastSignBefore, long wallClock) {

  long time() {
    return event.occurredAt();
  }

  boolean is(String canonicalType) {
    return canonicalType.equals(event.canonicalType());
  }

  boolean learning() {
    return state.learning(policy);
  }

  BusinessHours businessHours() {
    return state.businessHours != null ? state.businessHours : policy.businessHours();
  }

  int rotationDays() {
    return state.rotationPolicyDays != null ? state.rotationPolicyDays : policy.rotationPolicyDays();
  }
}
