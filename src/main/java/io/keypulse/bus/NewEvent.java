package io.keypulse.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A validated event as both ingest dialects produce it, before it is stored.
 *
 * @param canonicalType create, rotate, access, export, delete, sign, policy, or null for custom types
 * @param severityDerived true when the partner gave no severity: detection derives it from the score
 * @param occurredAt    event time given by the partner, or null for "the commit time"
 * @param detailsJson   the details as stored, encoded once (ingest checks their size with it), or null
 */
public record NewEvent(String partnerId, String keyId, String eventType, String canonicalType, String severity,
                       boolean severityDerived, String sourceIp, String actor, JsonObject details, Instant occurredAt,
                       String detailsJson) {

  /** The same event with the severity detection derived from its score. */
  public NewEvent withSeverity(String derived) {
    return new NewEvent(partnerId, keyId, eventType, canonicalType, derived, severityDerived, sourceIp, actor, details,
        occurredAt, detailsJson);
  }

  /** The details as JSON text, encoded only if ingest did not already. */
  public String detailsText() {
    return detailsJson != null ? detailsJson : details.encode();
  }
}
