package io.keypulse.api;

import io.keypulse.testing.ClientJson.Raw;
import java.util.LinkedHashMap;
import java.util.Map;

/** What HostileCases puts where a field or parameter belongs, by what it is. */
final class HostileValues {
  /** A public address literal: a URL around it would pass the SSRF rules (no DNS on the way). */
  static final String URL = "https://93.184.215.14/hook";

  static final Map<String, Object> UNPRINTABLE = values(
      "NUL", "a\u0000b", "a lone high surrogate", "a\ud800b", "a lone low surrogate", "\udc00b",
      "an ESC sequence", "\u001b[2J", "a line break", "a\r\nb", "a C1 control", "a\u0085b",
      "a right-to-left override", "evil\u202Egnp.exe", "a zero-width space", "key\u200B1",
      "a line separator", "a\u2028b", "a tag character", "a\uDB40\uDC41b",
      "70 000 characters", "h".repeat(70_000), "a number", 42, "a number out of range", new Raw("1e400"));
  static final Map<String, Object> BLANK = values("an empty string", "", "spaces", "   ");
  /** Event types are any printable string (SPEC §3): spaces are one. */
  static final Map<String, Object> EMPTY = values("an empty string", "");
  static final Map<String, Object> UNSTORABLE = values(
      "NUL", "a\u0000b", "a lone high surrogate", "a\ud800b", "a lone low surrogate", "\udc00b",
      "a number out of range", new Raw("-1e400"));
  static final Map<String, Object> NOT_A_CHOICE = values(
      "NUL", "a\u0000b", "a lone high surrogate", "\ud800", "BEL", "\u0007", "70 000 characters", "9".repeat(70_000),
      "an empty string", "", "SQL", "x' OR '1'='1", "a number", 42);
  static final Map<String, Object> NOT_A_URL = values(
      "NUL", URL + "\u0000", "a lone surrogate", URL + "\ud800", "a line break", URL + "/a\r\nb",
      "70 000 characters", URL + "/" + "u".repeat(70_000), "an empty string", "", "javascript", "javascript:alert(1)",
      "a file", "file:///etc/passwd", "credentials", "https://user:pw@93.184.215.14/hook",
      "loopback", "http://127.0.0.1:8080/admin", "a number", 42);

  /** Percent-encoded as a client would send them; each must be refused by name. */
  static final Map<String, String> ENCODED_UNPRINTABLE = strings(
      "NUL", "a%00b", "an ESC sequence", "%1B%5B2J", "a line break", "a%0D%0Ab", "a C1 control", "a%C2%85b",
      "a right-to-left override", "a%E2%80%AEb", "a zero-width space", "a%E2%80%8Bb", "3000 characters", "7".repeat(3000));
  /** Harmless once decoded (a lone surrogate's bytes decode to U+FFFD): any answer below 500. */
  static final Map<String, String> ENCODED_HARMLESS = strings(
      "SQL", "x'%20OR%20'1'%3D'1", "a path", "..%2F..%2Fetc%2Fpasswd", "lone surrogate bytes", "%ED%A0%80",
      "a number out of range", "99999999999999999999", "year 275760", "%2B275760-09-13T00%3A00%3A00Z");

  private HostileValues() {}

  static Map<String, Object> values(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      map.put((String) pairs[i], pairs[i + 1]);
    }
    return map;
  }

  static Map<String, String> strings(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }
}
