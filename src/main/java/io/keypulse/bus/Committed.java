package io.keypulse.bus;

import java.util.List;

/** One group commit's worth of events, published after the transaction committed. */
public record Committed(List<StoredEvent> events) {}
