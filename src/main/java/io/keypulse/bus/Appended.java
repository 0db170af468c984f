package io.keypulse.bus;

import java.util.List;

/** The events of an {@link Append}, committed, in the order they were given. */
public record Appended(List<StoredEvent> events) {}
