package io.keypulse.detect;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** A partner's cap: at most {@code threshold} events of a type per key over a sliding window. */
public record Threshold(long id, String partnerId, String name, String eventType, String keyId, int threshold,
                        String window, int warnAtPct, Instant createdAt) {

  /** Window lengths, and the bucket width that makes a window slide smoothly enough. */
  enum Window {
    HOUR("1h", 3_600_000L, 60), DAY("24h", 86_400_000L, 96), WEEK("7d", 604_800_000L, 168);

    final String label;
    final long millis;
    final int buckets;

    Window(String label, long millis, int buckets) {
      this.label = label;
      this.millis = millis;
      this.buckets = buckets;
    }

    static Window of(String label) {
      for (Window w : values()) {
        if (w.label.equals(label)) {
          return w;
        }
      }
      throw new IllegalArgumentException("window must be 1h, 24h or 7d");
    }
  }

  /** Raw or canonical event type, as alert rules match. */
  boolean matches(String keyId, String eventType, String canonicalType) {
    return (this.keyId == null || this.keyId.equals(keyId))
        && (this.eventType.equals(eventType) || this.eventType.equals(canonicalType));
  }

  long warnAt() {
    return Math.max(1, (long) Math.ceil(threshold * warnAtPct / 100.0));
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("name", name).put("event_type", eventType).put("key_id", keyId)
        .put("threshold", threshold).put("window", window).put("warn_at_pct", warnAtPct)
        .put("created_at", createdAt == null ? null : createdAt.toString());
  }
}
