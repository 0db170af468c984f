package io.keypulse.api;

import io.keypulse.json.ExactJson;
import io.keypulse.json.JsonNumber;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * Reads a request body that must be a JSON object: 415 for another media type, 400 for bad JSON,
 * and 400 naming the field for any string, at any depth, that Postgres could not store (see Text)
 * or a number that is not finite. Every route reads its body here, so none of that gets further.
 */
public final class JsonBodies {
  private JsonBodies() {}

  public static JsonObject object(RoutingContext ctx) {
    return parse(ctx, false, false);
  }

  /** For endpoints whose body is all optional: an empty body reads as {}. */
  public static JsonObject optionalObject(RoutingContext ctx) {
    return parse(ctx, true, false);
  }

  /**
   * For ingest: numbers keep the text the partner wrote ({@link ExactJson}), as the details are
   * stored and served with it.
   */
  public static JsonObject exactObject(RoutingContext ctx) {
    return parse(ctx, false, true);
  }

  private static JsonObject parse(RoutingContext ctx, boolean emptyAllowed, boolean exact) {
    Buffer body = ctx.body().buffer();
    if (emptyAllowed && (body == null || body.length() == 0)) {
      return new JsonObject();
    }
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !isJson(type)) {
      throw new HttpProblem(415, "Content-Type must be application/json");
    }
    if (body == null || body.length() == 0) {
      throw HttpProblem.badRequest("request body is empty; a JSON object is expected");
    }
    Object value;
    try {
      value = exact ? ExactJson.decode(body) : Json.decodeValue(body);
    } catch (DecodeException e) {
      throw HttpProblem.badRequest("malformed JSON body");
    }
    if (!(value instanceof JsonObject object)) {
      throw HttpProblem.badRequest("request body must be a JSON object");
    }
    String problem = unstorable(object.getMap(), new ArrayDeque<>());
    if (problem != null) {
      throw HttpProblem.badRequest(problem);
    }
    return object;
  }

  /**
   * Null if Postgres can store the value and read fields back out of it, else what is wrong, by path.
   * The path is kept as a trail of keys and indexes and written out only for a problem: building it
   * for every value was a tenth of the cost of reading a batch.
   */
  private static String unstorable(Object value, ArrayDeque<Object> trail) {
    if (value instanceof JsonObject object) {
      return unstorable(object.getMap(), trail);
    }
    if (value instanceof JsonArray array) {
      return unstorable(array.getList(), trail);
    }
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!Text.storable(String.valueOf(entry.getKey()))) {
          return (trail.isEmpty() ? "the body" : path(trail)) + " has a field name with a NUL character or invalid Unicode";
        }
        trail.addLast(String.valueOf(entry.getKey()));
        String problem = unstorable(entry.getValue(), trail);
        trail.removeLast();
        if (problem != null) {
          return problem;
        }
      }
    } else if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        trail.addLast(i);
        String problem = unstorable(list.get(i), trail);
        trail.removeLast();
        if (problem != null) {
          return problem;
        }
      }
    } else if (value instanceof String s && !Text.storable(s)) {
      return path(trail) + " contains a NUL character or invalid Unicode (a lone surrogate)";
    } else if (value instanceof Number n && (n instanceof Double || n instanceof Float || n instanceof JsonNumber)
        && !Double.isFinite(n.doubleValue())) {
      return path(trail) + " is a number out of range";
    }
    return null;
  }

  /** data[3].details.name: field names joined by dots, list indexes in brackets. */
  private static String path(ArrayDeque<Object> trail) {
    StringBuilder out = new StringBuilder();
    for (Object step : trail) {
      if (step instanceof Integer index) {
        out.append('[').append(index).append(']');
      } else {
        if (!out.isEmpty()) {
          out.append('.');
        }
        out.append(step);
      }
    }
    return out.toString();
  }

  private static boolean isJson(String contentType) {
    String media = contentType.split(";", 2)[0].trim().toLowerCase();
    return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
  }
}
