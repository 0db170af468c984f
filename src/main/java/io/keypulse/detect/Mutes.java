package io.keypulse.detect;

import io.keypulse.bus.EventFacts;

/** The partner's exceptions, as detection asks them: which one, if any, mutes a finding of an event. */
@FunctionalInterface
interface Mutes {
  Mutes NONE = (rule, event) -> null;

  /** The id of the first exception matching the rule and the event, or null. */
  Long mutedBy(String rule, EventFacts event);
}
