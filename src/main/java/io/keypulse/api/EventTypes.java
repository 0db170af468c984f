package io.keypulse.api;

import java.util.Map;
import java.util.regex.Pattern;

/** Event types are free strings; these are the ones detection understands, in both dialects. */
final class EventTypes {
  static final Pattern VALID = Pattern.compile("[a-z0-9_.:-]{1,64}");

  private static final Map<String, String> CANONICAL = Map.ofEntries(
      Map.entry("key_created", "create"), Map.entry("create", "create"),
      Map.entry("key_rotated", "rotate"), Map.entry("rotation", "rotate"),
      Map.entry("key_accessed", "access"), Map.entry("key_access", "access"),
      Map.entry("export", "export"),
      Map.entry("key_deleted", "delete"), Map.entry("deletion", "delete"),
      Map.entry("signing_operation", "sign"), Map.entry("signing_request", "sign"),
      Map.entry("policy_violation", "policy"), Map.entry("policy_change", "policy"));

  private EventTypes() {}

  /** The canonical type, or null for a custom type. An access flagged export=true is an export. */
  static String canonical(String eventType, boolean exportFlag) {
    String canonical = CANONICAL.get(eventType);
    return "access".equals(canonical) && exportFlag ? "export" : canonical;
  }
}
