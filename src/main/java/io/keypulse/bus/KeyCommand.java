package io.keypulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * A command for the shard that owns a key: CHECK_ROTATION (the scheduler found it possibly
 * overdue), RELOAD_SETTINGS (its per-key overrides changed) or CATCH_UP (the scheduler found
 * committed events of the key that no checkpoint covers yet: detect whatever the shard missed).
 */
public record KeyCommand(String partnerId, String keyId, Type type) {
  public enum Type { CHECK_ROTATION, RELOAD_SETTINGS, CATCH_UP }

  JsonObject toJson() {
    return new JsonObject().put("partner_id", partnerId).put("key_id", keyId).put("type", type.name());
  }

  static KeyCommand fromJson(JsonObject json) {
    return new KeyCommand(json.getString("partner_id"), json.getString("key_id"), Type.valueOf(json.getString("type")));
  }
}
