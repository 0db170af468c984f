package io.keypulse.api;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** Checks on the fields of a JSON request body; each failure is a 400 naming the field. */
public final class BodyFields {
  private BodyFields() {}

  /** Refuses fields the endpoint does not know, naming them all (a typo must not be silently ignored). */
  static void known(JsonObject body, List<String> allowed) {
    List<String> unknown = body.fieldNames().stream().filter(f -> !allowed.contains(f)).sorted().toList();
    if (!unknown.isEmpty()) {
      throw HttpProblem.badRequest("unknown field" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
          + "; known: " + String.join(", ", allowed));
    }
  }

  /** A printable string (see Text) of 1 to max characters, not blank; null when absent and optional. */
  public static String text(JsonObject body, String field, int max, boolean required) {
    Object value = body.getValue(field);
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank() || s.length() > max || !Text.printable(s)) {
      throw HttpProblem.badRequest(field + (required ? " is required: " : " must be ") + "a string of 1 to " + max
          + " characters, " + Text.PRINTABLE);
    }
    return s;
  }

  /** Like text, but line breaks and tabs are allowed: for free-form notes. */
  static String note(JsonObject body, String field, int max) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.length() > max || !Text.printable(s.replaceAll("[\\r\\n\\t]", " "))) {
      throw HttpProblem.badRequest(field + " must be a string of at most " + max
          + " characters, without control characters other than line breaks and tabs");
    }
    return s;
  }
}
