package io.keypulse.db;

import java.util.List;

/** One page of a newest-first listing; {@code nextBeforeId} is null on the last page. */
public record Page<T>(List<T> items, Long nextBeforeId) {}
