package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * The partner shard's answer to a {@link ProvisionCheck}.
 *
 * @param outcome none | alert | repeat (a spike already alerted within the suppression window)
 * @param finding rule, severity, score, description, evidence when the outcome is not none
 */
public record ProvisionVerdict(String outcome, JsonObject finding) {
  public static final ProvisionVerdict NONE = new ProvisionVerdict("none", null);

  JsonObject toJson() {
    return new JsonObject().put("outcome", outcome).put("finding", finding);
  }

  static ProvisionVerdict fromJson(JsonObject json) {
    return new ProvisionVerdict(json.getString("outcome"), json.getJsonObject("finding"));
  }
}
