package io.keypulse.bus;

import java.time.Instant;

/**
 * An event as committed: its id (increasing in commit order), event time and commit time.
 *
 * @param previousId  the id of the same key's previous event (0 for its first), when known at commit
 * @param ruleMatches the partner's alert rules it matched (each committed as a webhook to send)
 */
public record StoredEvent(long id, NewEvent event, Double score, Instant occurredAt, Instant createdAt,
                          long previousId, int ruleMatches) {

  /**
   * A score as partners see it everywhere (REST, live, the store): a decimal of three places, as the
   * double nearest to it, which JSON writes as that decimal (0.7, not 0.699999988079071). The
   * events.score column is a real: every three-place decimal in [0, 1] survives it, and reading it
   * back through here restores the decimal (a migration to numeric would rewrite the whole table).
   */
  public static double score(double raw) {
    return Math.round(raw * 1000) / 1000.0;
  }
}
