package io.keypulse.api;

import java.util.Map;

/** Event types are free strings; these are the ones detection understands, in both dialects. */
final class EventTypes {
  /** What an event type may be (SPEC §3): "any custom string", printable. */
  static final String RULE = "1 to 128 characters, without control characters or invalid Unicode";
  static final int MAX_LENGTH = 128;

  private static final Map<String, String> CANONICAL = Map.ofEntries(
      Map.entry("key_created", "create"), Map.entry("create", "create"),
      Map.entry("key_rotated", "rotate"), Map.entry("rotation", "rotate"),
      Map.entry("key_accessed", "access"), Map.entry("key_access", "access"),
      Map.entry("key_exported", "export"), Map.entry("export", "export"),
      Map.entry("key_deleted", "delete"), Map.entry("deletion", "delete"),
      Map.entry("signing_operation", "sign"), Map.entry("signing_request", "sign"),
      Map.entry("policy_violation", "policy"), Map.entry("policy_change", "policy"));

  private EventTypes() {}

  /** Any printable Unicode (see Text) up to 128 characters, stored and served as sent; refused: empty. */
  static boolean valid(String type) {
    return type != null && !type.isEmpty() && type.codePointCount(0, type.length()) <= MAX_LENGTH
        && Text.printable(type);
  }

  /** The canonical type, or null for a custom type. An access flagged export=true is an export. */
  static String canonical(String eventType, boolean exportFlag) {
    String canonical = CANONICAL.get(eventType);
    return "access".equals(canonical) && exportFlag ? "export" : canonical;
  }
}
