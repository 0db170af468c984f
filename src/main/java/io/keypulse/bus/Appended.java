package io.keypulse.bus;

import java.util.List;

/**
 * The events of an {@link Append}, committed, in the order they were given.
 *
 * @param detected what the shards found, when the append asked to wait for them; else null
 */
public record Appended(List<StoredEvent> events, Detected detected) {}
