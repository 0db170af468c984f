package io.keypulse.bus;

import java.time.Instant;

/** An event as committed: its id (increasing in commit order), event time and commit time. */
public record StoredEvent(long id, NewEvent event, Double score, Instant occurredAt, Instant createdAt) {}
