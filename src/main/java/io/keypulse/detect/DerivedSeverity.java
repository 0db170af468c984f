package io.keypulse.detect;

/**
 * The severity an event ingested without one takes from its score. One rule for what the store
 * keeps and what the live feed shows, so that both say the same of an event.
 */
public final class DerivedSeverity {
  private DerivedSeverity() {}

  public static String of(double score) {
    return score >= 0.9 ? "critical" : score >= 0.6 ? "warning" : "nominal";
  }
}
