package io.keypulse.store;

import java.time.Instant;

/** A partner's query over its events; null fields do not filter. since/until are event times. */
public record EventFilter(String partnerId, String keyId, String eventType, String severity,
                          Instant since, Instant until, Long beforeId, int limit) {}
