package io.keypulse.detect;

import io.vertx.core.json.JsonObject;

/**
 * What a detector concluded about one event. A nominal finding only contributes to the event's
 * score; a warning or critical one becomes an alert unless suppressed.
 *
 * @param kind          the webhook event it maps to: anomaly_detected, rotation_overdue, threshold_breach
 * @param suppressible  subject to the per-(key, rule) suppression window; rotation and thresholds have their own cadence
 */
public record Finding(String rule, String kind, String severity, double score, String description,
                      JsonObject evidence, boolean suppressible) {
  static final String ANOMALY = "anomaly_detected";
  static final double WARNING_SCORE = 0.7;
  static final double CRITICAL_SCORE = 0.95;

  static Finding anomaly(String rule, boolean critical, String description, JsonObject evidence) {
    return new Finding(rule, ANOMALY, critical ? "critical" : "warning", critical ? CRITICAL_SCORE : WARNING_SCORE,
        description, evidence, true);
  }

  /** A score without an alert. */
  static Finding scoreOnly(String rule, double score) {
    return new Finding(rule, ANOMALY, "nominal", score, "", new JsonObject(), false);
  }

  boolean alerts() {
    return !"nominal".equals(severity);
  }

  JsonObject toJson() {
    return new JsonObject().put("rule", rule).put("kind", kind).put("severity", severity).put("score", score)
        .put("description", description).put("evidence", evidence).put("suppressible", suppressible);
  }

  static Finding fromJson(JsonObject j) {
    return new Finding(j.getString("rule"), j.getString("kind"), j.getString("severity"), j.getDouble("score"),
        j.getString("description"), j.getJsonObject("evidence"), j.getBoolean("suppressible"));
  }

  /** The evidence every alert carries, so that a human can judge it. */
  static JsonObject evidence(Object baseline, Object observed, Object threshold, String window) {
    return new JsonObject().put("baseline", baseline).put("observed", observed).put("threshold", threshold)
        .put("window", window);
  }
}
