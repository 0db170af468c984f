package io.keypulse.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** A key as partners see it: counters kept by the store, status and baseline state derived. */
public record KeyView(long id, String keyId, String name, String keyType, String status, long eventCount,
                      Instant firstEventAt, Instant lastActivity, Instant createdAt, Instant lastRotated,
                      int rotationPolicyDays, String baselineState, JsonObject businessHours) {}
