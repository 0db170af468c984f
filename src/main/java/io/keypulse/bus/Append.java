package io.keypulse.bus;

import java.util.List;

/** Store these events, all or none, and answer with {@link Appended} once they are committed. */
public record Append(List<NewEvent> events) {}
