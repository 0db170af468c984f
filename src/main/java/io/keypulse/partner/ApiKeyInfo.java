package io.keypulse.partner;

import java.time.Instant;

/** An API key as a listing shows it: never the key itself, only its first 12 characters. */
public record ApiKeyInfo(long id, String name, String prefix, String status, String mintedBy,
                         Instant createdAt, Instant lastUsedAt) {}
