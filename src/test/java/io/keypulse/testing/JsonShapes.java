package io.keypulse.testing;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Compares the shape of a JSON answer (field names and JSON types, not values) with an example
 * written for people. An example may elide with {@code …} or {@code ...} where a member or an
 * element would be: then it names only some of the members, or shows only some of the elements.
 */
public final class JsonShapes {
  /** What an elision becomes once parsed: a member of that name, or an element of that value. */
  static final String MORE = "…";

  private JsonShapes() {}

  /** Parses an example, elisions included. */
  public static Object parseExample(String text) {
    StringBuilder out = new StringBuilder();
    Deque<Character> open = new ArrayDeque<>();
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        out.append(c);
        if (c == '\\') {
          out.append(text.charAt(++i));
        } else if (c == '"') {
          inString = false;
        }
        continue;
      }
      boolean dots = text.startsWith("...", i);
      if (c == '…' || dots) {
        out.append(!open.isEmpty() && open.peek() == '{' ? "\"" + MORE + "\":null" : "\"" + MORE + "\"");
        i += dots ? 2 : 0;
        continue;
      }
      switch (c) {
        case '"' -> inString = true;
        case '{', '[' -> open.push(c);
        case '}', ']' -> open.pop();
        default -> { }
      }
      out.append(c);
    }
    return Json.decodeValue(out.toString());
  }

  /** Every way the answer's shape differs from the example's, each naming its path; empty when alike. */
  public static List<String> differences(Object example, Object answer) {
    List<String> found = new ArrayList<>();
    compare("$", example, answer, found);
    return found;
  }

  private static void compare(String path, Object example, Object answer, List<String> found) {
    if (!type(example).equals(type(answer))) {
      found.add(path + ": the README shows " + type(example) + " (" + example + "), the node answered "
          + type(answer) + " (" + answer + ")");
    } else if (example instanceof JsonObject e) {
      compareObjects(path, e, (JsonObject) answer, found);
    } else if (example instanceof JsonArray e) {
      compareArrays(path, e, (JsonArray) answer, found);
    }
  }

  private static void compareObjects(String path, JsonObject example, JsonObject answer, List<String> found) {
    for (String name : example.fieldNames()) {
      if (name.equals(MORE)) {
        continue;
      }
      if (!answer.containsKey(name)) {
        found.add(path + "." + name + ": in the README, not in the node's answer");
      } else {
        compare(path + "." + name, example.getValue(name), answer.getValue(name), found);
      }
    }
    if (!example.containsKey(MORE)) {
      answer.fieldNames().stream().filter(name -> !example.containsKey(name))
          .forEach(name -> found.add(path + "." + name + ": in the node's answer, not in the README"));
    }
  }

  /** Each element shown must have the shape of some element answered, and (unless elided) the other way round. */
  private static void compareArrays(String path, JsonArray example, JsonArray answer, List<String> found) {
    List<Object> shown = new ArrayList<>();
    for (int i = 0; i < example.size(); i++) {
      if (!MORE.equals(example.getValue(i))) {
        shown.add(example.getValue(i));
      }
    }
    int before = found.size();
    for (int i = 0; i < shown.size(); i++) {
      Object one = shown.get(i);
      if (answer.isEmpty()) {
        found.add(path + "[" + i + "]: the README shows an element, the node answered an empty array");
      } else if (elements(answer).stream().noneMatch(a -> differences(one, a).isEmpty())) {
        compare(path + "[" + i + "]", one, answer.getValue(Math.min(i, answer.size() - 1)), found);
      }
    }
    // Elements of a shape not shown, once the ones shown all matched (else that is the news).
    if (found.size() == before && !shown.isEmpty() && !example.contains(MORE)) {
      for (Object a : elements(answer)) {
        if (shown.stream().noneMatch(one -> differences(one, a).isEmpty())) {
          found.add(path + ": the node answered an element of a shape the README does not show: " + a);
        }
      }
    }
  }

  private static List<Object> elements(JsonArray array) {
    List<Object> all = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      all.add(array.getValue(i));
    }
    return all;
  }

  static String type(Object value) {
    if (value == null) {
      return "null";
    } else if (value instanceof JsonObject || value instanceof java.util.Map) {
      return "object";
    } else if (value instanceof JsonArray || value instanceof java.util.List) {
      return "array";
    } else if (value instanceof Number) {
      return "number";
    } else if (value instanceof Boolean) {
      return "boolean";
    }
    return "string";
  }
}
