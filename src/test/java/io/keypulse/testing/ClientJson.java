package io.keypulse.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * JSON bodies as a hostile client writes them, byte for byte: every non-ASCII character escaped (a
 * lone surrogate has no UTF-8 form, so sent raw it would arrive as '?'; escaped it arrives as
 * itself), and Raw values put in as they are (1e400 has no Java double).
 */
public final class ClientJson {
  /** JSON text to put into a body as is. */
  public record Raw(String json) {}

  private ClientJson() {}

  public static byte[] encode(JsonObject body) {
    Map<String, String> raws = new LinkedHashMap<>();
    String json = ((JsonObject) withPlaceholders(body, raws)).encode();
    StringBuilder out = new StringBuilder(json.length());
    json.chars().forEach(c -> out.append(c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)));
    String text = out.toString();
    for (Map.Entry<String, String> raw : raws.entrySet()) {
      text = text.replace("\"" + raw.getKey() + "\"", raw.getValue());
    }
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** Sets a field given as a path: "details.note", "events[0].key_id", "business_hours.days[0]". */
  public static void set(JsonObject root, String path, Object value) {
    Object container = root;
    String[] steps = path.replace("[", ".[").split("\\.");
    for (int i = 0; i < steps.length; i++) {
      boolean last = i == steps.length - 1;
      String step = steps[i];
      if (step.startsWith("[")) {
        JsonArray array = (JsonArray) container;
        int index = Integer.parseInt(step.substring(1, step.length() - 1));
        if (last) {
          array.set(index, value);
        } else {
          container = array.getValue(index);
        }
      } else if (last) {
        ((JsonObject) container).put(step, value);
      } else {
        container = ((JsonObject) container).getValue(step);
      }
    }
  }

  private static Object withPlaceholders(Object value, Map<String, String> raws) {
    if (value instanceof Raw raw) {
      String placeholder = "@@raw" + raws.size() + "@@";
      raws.put(placeholder, raw.json());
      return placeholder;
    }
    if (value instanceof JsonObject o) {
      JsonObject copy = new JsonObject();
      o.forEach(e -> copy.put(e.getKey(), withPlaceholders(e.getValue(), raws)));
      return copy;
    }
    if (value instanceof JsonArray a) {
      JsonArray copy = new JsonArray();
      a.forEach(item -> copy.add(withPlaceholders(item, raws)));
      return copy;
    }
    return value;
  }
}
