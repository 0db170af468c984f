package io.keypulse.api;

import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Set;

/**
 * Query-string and path parameters, validated: a malformed one is a 400 naming it, never a silent
 * default. Every one is printable (see Text): none is free text, and none may carry a NUL to Postgres.
 */
public final class Params {
  private Params() {}

  public static String text(RoutingContext ctx, String name, int maxLength) {
    String value = ctx.queryParams().get(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    return checked(name, value, maxLength);
  }

  /** A path parameter that names something (a key, a partner); it is there whenever its route matched. */
  public static String path(RoutingContext ctx, String name, int maxLength) {
    return checked(name, ctx.pathParam(name), maxLength);
  }

  private static String checked(String name, String value, int maxLength) {
    if (value.length() > maxLength) {
      throw HttpProblem.badRequest(name + " must be at most " + maxLength + " characters");
    }
    if (!Text.printable(value)) {
      throw HttpProblem.badRequest(name + " must not contain control characters or invalid Unicode");
    }
    return value;
  }

  static String oneOf(RoutingContext ctx, String name, Set<String> allowed) {
    String value = text(ctx, name, 64);
    if (value != null && !allowed.contains(value)) {
      throw HttpProblem.badRequest(name + " must be one of " + String.join(", ", allowed.stream().sorted().toList()));
    }
    return value;
  }

  static Long positiveLong(RoutingContext ctx, String name) {
    String value = text(ctx, name, 19);
    if (value == null) {
      return null;
    }
    try {
      long parsed = Long.parseLong(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw HttpProblem.badRequest(name + " must be a positive integer");
  }

  /** A page size: default when absent, clamped to max when larger (never an error for being large). */
  static int limit(RoutingContext ctx, int defaultLimit, int max) {
    String value = ctx.queryParams().get("limit");
    if (value == null || value.isEmpty()) {
      return defaultLimit;
    }
    if (!value.matches("\\d{1,18}") || Long.parseLong(value) < 1) {
      throw HttpProblem.badRequest("limit must be a positive integer");
    }
    return (int) Math.min(Long.parseLong(value), max);
  }

  static Instant time(RoutingContext ctx, String name) {
    String value = text(ctx, name, 64);
    if (value == null) {
      return null;
    }
    Instant parsed = Times.parse(value);
    if (parsed == null) {
      throw HttpProblem.badRequest(name + " must be an ISO-8601 date-time, e.g. 2026-04-05T12:34:00Z");
    }
    return parsed;
  }
}
