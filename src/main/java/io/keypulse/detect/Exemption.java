package io.keypulse.detect;

import io.keypulse.api.Times;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A partner's exception to one rule ("exemption" here, beside java.lang.Exception): a finding it
 * matches still scores its event but raises no alert. Every criterion given must match; a null one
 * matches anything. The shards test each finding against the partner's list, so matching parses
 * nothing but the event's IP, and only when the rest already matched.
 *
 * @param keyPrefix     matches every key id starting with it (exclusive with keyId)
 * @param sourceIpCidr  null, or the range the event's IP must fall in
 * @param expiresAt     null: until deleted
 * @param matched       findings muted so far (counted by the detectors)
 */
public record Exemption(long id, String partnerId, String rule, String keyId, String keyPrefix, IpRange sourceIpCidr,
                        String actor, Instant expiresAt, String reason, long matched, Instant lastMatchedAt,
                        Instant createdAt) {

  /**
   * Whether a finding of {@code rule} on this event is muted. An event without an IP (or actor)
   * does not match an IP (or actor) criterion; an exemption is over once the event's time reaches
   * its expiry, so a cached copy needs no clock.
   */
  public boolean matches(String rule, String keyId, String sourceIp, String actor, long eventTimeMillis) {
    return this.rule.equals(rule)
        && (expiresAt == null || eventTimeMillis < expiresAt.toEpochMilli())
        && (this.keyId == null || this.keyId.equals(keyId))
        && (keyPrefix == null || (keyId != null && keyId.startsWith(keyPrefix)))
        && (this.actor == null || this.actor.equals(actor))
        && (sourceIpCidr == null || sourceIpCidr.contains(sourceIp));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("rule", rule)
        .put("key_id", keyId)
        .put("key_prefix", keyPrefix)
        .put("source_ip_cidr", sourceIpCidr == null ? null : sourceIpCidr.toString())
        .put("actor", actor)
        .put("expires_at", Times.iso(expiresAt))
        .put("reason", reason)
        .put("matched", matched)
        .put("last_matched_at", Times.iso(lastMatchedAt))
        .put("created_at", Times.iso(createdAt));
  }
}
