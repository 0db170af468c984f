package io.keypulse.api;

import io.keypulse.config.Config;
import io.netty.util.NetUtil;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validation shared by both dialects. Everything that could make Postgres refuse a row (NUL
 * characters, lone surrogates, non-finite numbers) is refused here, so one bad event can never
 * fail a group commit, and a bad request never stores anything.
 */
final class EventFields {
  static final Set<String> SEVERITIES = Set.of("nominal", "warning", "critical");
  private static final Instant EPOCH = Instant.EPOCH;

  private final Config.Ingest limits;
  private final Clock clock;

  EventFields(Config.Ingest limits, Clock clock) {
    this.limits = limits;
    this.clock = clock;
  }

  String keyId(JsonObject json, String where) {
    String value = requiredString(json, "key_id", where);
    if (value.isBlank() || value.length() > limits.maxKeyIdLength()) {
      throw bad(where, "key_id must be 1 to " + limits.maxKeyIdLength() + " characters");
    }
    if (value.chars().anyMatch(Character::isISOControl) || !wellFormed(value)) {
      throw bad(where, "key_id must not contain control characters or invalid Unicode");
    }
    return value;
  }

  String eventType(JsonObject json, String where) {
    String value = requiredString(json, "event_type", where);
    if (!EventTypes.valid(value)) {
      throw bad(where, "event_type must be " + EventTypes.RULE);
    }
    return value;
  }

  /** Null when absent and not required. */
  String severity(JsonObject json, String where, boolean required) {
    Object value = json.getValue("severity");
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String s) || !SEVERITIES.contains(s)) {
      throw bad(where, "severity must be one of nominal, warning, critical");
    }
    return s;
  }

  /** A literal IPv4 or IPv6 address (never a host name: no DNS on the ingest path), normalised. */
  String ip(Object value, String field, String where) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || !(NetUtil.isValidIpV4Address(s) || NetUtil.isValidIpV6Address(s))) {
      throw bad(where, field + " must be an IPv4 or IPv6 address");
    }
    try {
      return NetUtil.toAddressString(InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(s)));
    } catch (UnknownHostException e) {
      throw bad(where, field + " must be an IPv4 or IPv6 address");
    }
  }

  String actor(Object value, String field, String where) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw bad(where, field + " must be a string");
    }
    if (s.length() > limits.maxActorLength() || s.chars().anyMatch(Character::isISOControl) || !wellFormed(s)) {
      throw bad(where, field + " must be at most " + limits.maxActorLength()
          + " characters, without control characters or invalid Unicode");
    }
    return s.isEmpty() ? null : s;
  }

  /** The free-form object of the event; {} when absent. */
  JsonObject details(JsonObject json, String field, String where) {
    Object value = json.getValue(field);
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject object)) {
      throw bad(where, field + " must be a JSON object");
    }
    String problem = storable(object, field);
    if (problem != null) {
      throw bad(where, problem);
    }
    if (object.encode().getBytes(StandardCharsets.UTF_8).length > limits.maxDetailsBytes()) {
      throw bad(where, field + " must be at most " + limits.maxDetailsBytes() + " bytes of JSON");
    }
    return object;
  }

  Instant occurredAt(JsonObject json, String where) {
    Object value = json.getValue("occurred_at");
    if (value == null) {
      return null;
    }
    Instant at = value instanceof String s ? Times.parse(s) : null;
    if (at == null) {
      throw bad(where, "occurred_at must be an ISO-8601 date-time, e.g. 2026-04-05T12:34:00Z");
    }
    Instant latest = clock.instant().plusSeconds(limits.maxFutureSkewSeconds());
    if (at.isAfter(latest) || at.isBefore(EPOCH)) {
      throw bad(where, "occurred_at must lie between 1970 and " + limits.maxFutureSkewSeconds() + " s from now");
    }
    return at;
  }

  static HttpProblem bad(String where, String message) {
    return HttpProblem.badRequest(where.isEmpty() ? message : where + ": " + message);
  }

  private static String requiredString(JsonObject json, String field, String where) {
    Object value = json.getValue(field);
    if (value == null) {
      throw bad(where, field + " is required");
    }
    if (!(value instanceof String s)) {
      throw bad(where, field + " must be a string");
    }
    return s;
  }

  /** Null if Postgres can store the value and read fields back out of it, else what is wrong with it. */
  private static String storable(Object value, String path) {
    if (value instanceof JsonObject object) {
      return storable(object.getMap(), path);
    }
    if (value instanceof JsonArray array) {
      return storable(array.getList(), path);
    }
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!textStorable(String.valueOf(entry.getKey()))) {
          return path + " has a key with a NUL character or invalid Unicode";
        }
        String problem = storable(entry.getValue(), path + "." + entry.getKey());
        if (problem != null) {
          return problem;
        }
      }
    } else if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        String problem = storable(list.get(i), path + "[" + i + "]");
        if (problem != null) {
          return problem;
        }
      }
    } else if (value instanceof String s && !textStorable(s)) {
      return path + " contains a NUL character or invalid Unicode";
    } else if ((value instanceof Double d && !Double.isFinite(d)) || (value instanceof Float f && !Float.isFinite(f))) {
      return path + " is a number out of range";
    }
    return null;
  }

  private static boolean textStorable(String s) {
    return s.indexOf('\0') < 0 && wellFormed(s);
  }

  /** No lone UTF-16 surrogates: they have no UTF-8 form. */
  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
