package io.keypulse.delivery;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Webhook bodies, written the way JavaScript's JSON.stringify (and Python's json.dumps with
 * compact separators and ensure_ascii=False) would write them back: no spaces, fields in order,
 * integral numbers without ".0", other numbers in their shortest form, only the characters JSON
 * requires escaped (and lone surrogates, as JSON.stringify does), and object members in the order
 * a JavaScript object keeps them: array-index keys ("0", "17") first in numeric order, then the rest
 * as given. So a receiver that verifies the signature over its re-serialised parsed body (the first
 * product document's Node snippet) computes the same bytes (SPEC §6). So a partner's numbers in
 * {@code metadata} are spelled as JavaScript writes them (1e3 as 1000, 1.50 as 1.5), unlike the API
 * and the live feed, which give them back as the partner sent them. One exception: integers beyond
 * 2^53 are written exactly (wei amounts must not be rounded), which JavaScript cannot hold; receivers
 * that may see such numbers must verify the raw body.
 */
public final class WebhookJson {
  private WebhookJson() {}

  public static String encode(Object value) {
    StringBuilder out = new StringBuilder(256);
    write(out, value);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonObject o) {
      write(out, o.getMap());
    } else if (value instanceof JsonArray a) {
      write(out, a.getList());
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : inJavaScriptOrder(map)) {
        out.append(first ? "" : ",");
        first = false;
        string(out, String.valueOf(e.getKey()));
        out.append(':');
        write(out, e.getValue());
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ",");
        write(out, list.get(i));
      }
      out.append(']');
    } else if (value instanceof CharSequence s) {
      string(out, s.toString());
    } else if (value instanceof Boolean b) {
      out.append(b);
    } else if (value instanceof Number n) {
      out.append(number(n));
    } else {
      string(out, value.toString());
    }
  }

  /** Array-index keys first, ascending; then the others in insertion order (ECMA-262 OrdinaryOwnPropertyKeys). */
  private static List<Map.Entry<?, ?>> inJavaScriptOrder(Map<?, ?> map) {
    List<Map.Entry<?, ?>> indexKeys = new ArrayList<>();
    List<Map.Entry<?, ?>> others = new ArrayList<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      (arrayIndex(String.valueOf(e.getKey())) >= 0 ? indexKeys : others).add(e);
    }
    if (indexKeys.isEmpty()) {
      return others;
    }
    indexKeys.sort(Comparator.comparingLong(e -> arrayIndex(String.valueOf(e.getKey()))));
    indexKeys.addAll(others);
    return indexKeys;
  }

  /** The key as an array index (canonical integer below 2^32 - 1), or -1. */
  static long arrayIndex(String key) {
    int n = key.length();
    if (n == 0 || n > 10 || (n > 1 && key.charAt(0) == '0')) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < n; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value < 0xFFFF_FFFFL ? value : -1;
  }

  static String number(Number n) {
    if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte || n instanceof BigInteger) {
      return n.toString();
    }
    double d = n.doubleValue();
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "null";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e21) {
      return new BigDecimal(d).toBigInteger().toString();
    }
    BigDecimal shortest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    double magnitude = Math.abs(d);
    if (magnitude >= 1e-6 && magnitude < 1e21) {
      return shortest.toPlainString();
    }
    // JavaScript's exponent form: d.ddde+N / d.ddde-N.
    String digits = shortest.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - shortest.scale();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return (d < 0 ? "-" : "") + mantissa + "e" + (exponent >= 0 ? "+" : "") + exponent;
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          boolean loneSurrogate = Character.isHighSurrogate(c)
              ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
              : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
          if (c < 0x20 || loneSurrogate) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
