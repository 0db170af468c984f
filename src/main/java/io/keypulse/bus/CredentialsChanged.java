package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/** Cached credentials of this partner (all its keys) are stale on every node. */
public record CredentialsChanged(String partnerId) {

  JsonObject toJson() {
    return new JsonObject().put("partner_id", partnerId);
  }

  static CredentialsChanged fromJson(JsonObject json) {
    return new CredentialsChanged(json.getString("partner_id"));
  }
}
