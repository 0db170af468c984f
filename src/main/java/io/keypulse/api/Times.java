package io.keypulse.api;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The API's one time format: ISO-8601 UTC with milliseconds, e.g. 2026-04-05T12:34:00.000Z. */
public final class Times {
  private static final DateTimeFormatter OUT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(ZoneOffset.UTC);

  private Times() {}

  public static String iso(Instant instant) {
    return instant == null ? null : OUT.format(instant);
  }

  /** Accepts an ISO-8601 date-time with Z or an offset; null when it is not one. */
  public static Instant parse(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException | NullPointerException e) {
      return null;
    }
  }
}
