package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** A partner's detection policy or thresholds changed: every node drops its cached copy. */
public record PartnerSettingsChanged(String partnerId) {

  JsonObject toJson() {
    return new JsonObject().put("partner_id", partnerId);
  }

  static PartnerSettingsChanged fromJson(JsonObject json) {
    return new PartnerSettingsChanged(json.getString("partner_id"));
  }
}
