package io.keypulse.bus;

import java.time.Instant;

/**
 * An event as committed: its id (increasing in commit order), event time and commit time.
 *
 * @param previousId  the id of the same key's previous event (0 for its first), when known at commit
 * @param ruleMatches the partner's alert rules it matched (each committed as a webhook to send)
 */
public record StoredEvent(long id, NewEvent event, Double score, Instant occurredAt, Instant createdAt,
                          long previousId, int ruleMatches) {}
