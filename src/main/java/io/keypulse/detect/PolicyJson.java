package io.keypulse.detect;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The JSON form of a policy. Partners send only the fields they change; null resets a field to the
 * node default. Stored overrides are merged over the defaults to give the effective policy.
 */
public final class PolicyJson {
  /** Per field: checks a partner's value and returns it as stored. */
  private static final Map<String, UnaryOperator<Object>> CHECKS = new LinkedHashMap<>();

  static {
    decimal("signing_spike_multiplier", 1.1, 1000);
    decimal("signing_spike_critical_multiplier", 1.1, 10000);
    integer("signing_spike_min_count", 1, 1_000_000);
    decimal("off_hours_max_share_pct", 0.01, 50);
    integer("off_hours_min_history", 1, 10_000_000);
    integer("new_source_min_history", 0, 10_000_000);
    integer("new_source_network_churn", 2, 65_535);
    integer("new_source_learning_hours", 0, 720);
    decimal("provisioning_spike_multiplier", 1.1, 1000);
    integer("provisioning_spike_min_count", 1, 1_000_000);
    integer("rotation_policy_days", 1, 3650);
    integer("suppression_minutes", 0, 10_080);
    integer("learning_hours", 0, 720);
    integer("retention_days", Policy.MIN_RETENTION_DAYS, 3650);
    // Stored in its one canonical form: whatever else the partner sent is not kept (nor echoed back).
    CHECKS.put("business_hours", v -> BusinessHours.parse(v).toJson());
  }

  private PolicyJson() {}

  /**
   * Checks a partner's changes and returns them as they are stored (null kept: it resets the field);
   * throws IllegalArgumentException naming the first bad field.
   */
  public static JsonObject validate(JsonObject changes) {
    JsonObject stored = new JsonObject();
    for (String name : changes.fieldNames()) {
      UnaryOperator<Object> check = CHECKS.get(name);
      if (check == null) {
        throw new IllegalArgumentException("unknown policy field " + name + "; known: " + String.join(", ", CHECKS.keySet()));
      }
      Object value = changes.getValue(name);
      stored.put(name, value == null ? null : check.apply(value));
    }
    return stored;
  }

  /** The defaults with the stored overrides applied. */
  public static Policy effective(Policy defaults, JsonObject overrides) {
    JsonObject merged = render(defaults);
    overrides.forEach(e -> {
      if (e.getValue() != null && CHECKS.containsKey(e.getKey())) {
        merged.put(e.getKey(), e.getValue());
      }
    });
    return parse(merged);
  }

  public static JsonObject render(Policy p) {
    return new JsonObject()
        .put("signing_spike_multiplier", p.signingSpikeMultiplier())
        .put("signing_spike_critical_multiplier", p.signingSpikeCriticalMultiplier())
        .put("signing_spike_min_count", p.signingSpikeMinCount())
        .put("off_hours_max_share_pct", p.offHoursMaxSharePct())
        .put("off_hours_min_history", p.offHoursMinHistory())
        .put("new_source_min_history", p.newSourceMinHistory())
        .put("new_source_network_churn", p.newSourceNetworkChurn())
        .put("new_source_learning_hours", p.newSourceLearningHours())
        .put("provisioning_spike_multiplier", p.provisioningSpikeMultiplier())
        .put("provisioning_spike_min_count", p.provisioningSpikeMinCount())
        .put("rotation_policy_days", p.rotationPolicyDays())
        .put("suppression_minutes", p.suppressionMinutes())
        .put("learning_hours", p.learningHours())
        .put("business_hours", p.businessHours() == null ? null : p.businessHours().toJson())
        .put("retention_days", p.retentionDays());
  }

  private static Policy parse(JsonObject j) {
    Object hours = j.getValue("business_hours");
    return new Policy(j.getDouble("signing_spike_multiplier"), j.getDouble("signing_spike_critical_multiplier"),
        j.getInteger("signing_spike_min_count"), j.getDouble("off_hours_max_share_pct"),
        j.getInteger("off_hours_min_history"), j.getInteger("new_source_min_history"),
        j.getInteger("new_source_network_churn"), j.getInteger("new_source_learning_hours"),
        j.getDouble("provisioning_spike_multiplier"), j.getInteger("provisioning_spike_min_count"),
        j.getInteger("rotation_policy_days"), j.getInteger("suppression_minutes"), j.getInteger("learning_hours"),
        hours == null ? null : BusinessHours.read(hours), j.getInteger("retention_days"));
  }

  private static void decimal(String name, double min, double max) {
    CHECKS.put(name, v -> {
      if (!(v instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max) {
        throw new IllegalArgumentException(name + " must be a number from " + min + " to " + max);
      }
      return v;
    });
  }

  private static void integer(String name, int min, int max) {
    CHECKS.put(name, v -> {
      if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < min
          || ((Number) v).longValue() > max) {
        throw new IllegalArgumentException(name + " must be an integer from " + min + " to " + max);
      }
      return v;
    });
  }
}
