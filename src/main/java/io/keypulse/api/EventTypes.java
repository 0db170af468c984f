package io.keypulse.api;

import java.util.Map;

/** Event types are free strings; these are the ones detection understands, in both dialects. */
final class EventTypes {
  static final String RULE = "^[a-z0-9_.:-]{1,64}$";

  private static final Map<String, String> CANONICAL = Map.ofEntries(
      Map.entry("key_created", "create"), Map.entry("create", "create"),
      Map.entry("key_rotated", "rotate"), Map.entry("rotation", "rotate"),
      Map.entry("key_accessed", "access"), Map.entry("key_access", "access"),
      Map.entry("key_exported", "export"), Map.entry("export", "export"),
      Map.entry("key_deleted", "delete"), Map.entry("deletion", "delete"),
      Map.entry("signing_operation", "sign"), Map.entry("signing_request", "sign"),
      Map.entry("policy_violation", "policy"), Map.entry("policy_change", "policy"));

  private EventTypes() {}

  /** The documented shape, checked by hand: it runs for every event of every batch. */
  static boolean valid(String type) {
    if (type == null || type.isEmpty() || type.length() > 64) {
      return false;
    }
    for (int i = 0; i < type.length(); i++) {
      char c = type.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** The canonical type, or null for a custom type. An access flagged export=true is an export. */
  static String canonical(String eventType, boolean exportFlag) {
    String canonical = CANONICAL.get(eventType);
    return "access".equals(canonical) && exportFlag ? "export" : canonical;
  }
}
