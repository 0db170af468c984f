package io.keypulse.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reads a request body that must be a JSON object: 415 for another media type, 400 for bad JSON. */
public final class JsonBodies {
  private JsonBodies() {}

  public static JsonObject object(RoutingContext ctx) {
    return parse(ctx, false);
  }

  /** For endpoints whose body is all optional: an empty body reads as {}. */
  public static JsonObject optionalObject(RoutingContext ctx) {
    return parse(ctx, true);
  }

  private static JsonObject parse(RoutingContext ctx, boolean emptyAllowed) {
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
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw HttpProblem.badRequest("malformed JSON body");
    }
    if (!(value instanceof JsonObject object)) {
      throw HttpProblem.badRequest("request body must be a JSON object");
    }
    return object;
  }

  private static boolean isJson(String contentType) {
    String media = contentType.split(";", 2)[0].trim().toLowerCase();
    return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
  }
}
