package io.keypulse.api;

import io.keypulse.config.Config;
import io.netty.util.NetUtil;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Instant;
import java.util.Set;

/**
 * Validation shared by both dialects. Together with JsonBodies (which refuses anything Postgres
 * cannot store, at any depth) this is why one bad event can never fail a group commit, and a bad
 * request never stores anything.
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
    if (!Text.printable(value)) {
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
    if (s.length() > limits.maxActorLength() || !Text.printable(s)) {
      throw bad(where, field + " must be at most " + limits.maxActorLength() + " characters, " + Text.PRINTABLE);
    }
    return s.isEmpty() ? null : s;
  }

  /** An event's details, and their JSON text: encoded here once, for the size check and the store. */
  record Details(JsonObject object, String json) {}

  /** The free-form object of the event; {} when absent. JsonBodies has checked that Postgres can store it. */
  Details details(JsonObject json, String field, String where) {
    Object value = json.getValue(field);
    if (value == null) {
      return new Details(new JsonObject(), "{}");
    }
    if (!(value instanceof JsonObject object)) {
      throw bad(where, field + " must be a JSON object");
    }
    String text = object.encode();
    if (Text.utf8Length(text) > limits.maxDetailsBytes()) {
      throw bad(where, field + " must be at most " + limits.maxDetailsBytes() + " bytes of JSON");
    }
    return new Details(object, text);
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
}
