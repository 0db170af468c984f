package io.keypulse.store;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;

/**
 * A key as partners see it: counters kept by the store, status and baseline state derived.
 *
 * @param baselineState  learning until the volume baseline is ready (its observed signings span the learning period)
 * @param baselines      the same, per learning detector
 */
public record KeyView(long id, String keyId, String name, String keyType, String status, long eventCount,
                      Instant firstEventAt, Instant lastActivity, Instant createdAt, Instant lastRotated,
                      int rotationPolicyDays, String baselineState, Map<String, String> baselines,
                      JsonObject businessHours) {}
