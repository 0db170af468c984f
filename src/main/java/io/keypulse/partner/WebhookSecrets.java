package io.keypulse.partner;

import java.time.Instant;
import java.util.List;

/**
 * A partner's webhook secret and, for a while after a rotation, the one it replaced.
 *
 * @param previous      the replaced secret, or null
 * @param previousUntil until when the replaced secret still signs, or null
 */
public record WebhookSecrets(String current, String previous, Instant previousUntil) {

  /** The secrets that sign a webhook sent at that instant, the current one first. */
  public List<String> signingAt(Instant at) {
    return previous != null && previousUntil != null && at.isBefore(previousUntil)
        ? List.of(current, previous)
        : List.of(current);
  }
}
