package io.keypulse.bus;

import java.util.List;

/**
 * Store these events, all or none, and answer with {@link Appended} once they are committed (and,
 * when {@code awaitDetection}, once the detector shards have judged them).
 *
 * @param claim the request's Idempotency-Key, committed with the events; null when it has none
 */
public record Append(List<NewEvent> events, boolean awaitDetection, IdempotencyClaim claim) {}
