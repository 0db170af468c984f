package io.keypulse.detect;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.format.TextStyle;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * When a key is expected to sign: {"timezone":"Europe/Paris","days":["mon",…],"start":"08:00","end":"18:00"}.
 * A start after the end spans midnight (e.g. 22:00–06:00 for a night desk).
 */
public record BusinessHours(ZoneId zone, Set<DayOfWeek> days, LocalTime start, LocalTime end) {
  private static final List<String> FIELDS = List.of("timezone", "days", "start", "end");

  public boolean contains(Instant t) {
    ZonedDateTime local = t.atZone(zone);
    LocalTime time = local.toLocalTime();
    boolean inHours = start.isBefore(end) ? !time.isBefore(start) && time.isBefore(end)
        : !time.isBefore(start) || time.isBefore(end);
    // A night shift that started yesterday belongs to yesterday's working day.
    DayOfWeek day = !start.isBefore(end) && time.isBefore(end) ? local.getDayOfWeek().minus(1) : local.getDayOfWeek();
    return inHours && days.contains(day);
  }

  /** Parses and validates what a partner sent: unknown fields too are refused. The message says what is wrong. */
  public static BusinessHours parse(Object value) {
    if (value instanceof JsonObject json) {
      List<String> unknown = json.fieldNames().stream().filter(f -> !FIELDS.contains(f)).sorted().toList();
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException("unknown field business_hours." + unknown.get(0) + "; business_hours takes "
            + String.join(", ", FIELDS));
      }
    }
    return read(value);
  }

  /** A stored value: fields other than FIELDS, kept by versions that did not refuse them, are ignored. */
  public static BusinessHours read(Object value) {
    if (!(value instanceof JsonObject json)) {
      throw new IllegalArgumentException("business_hours must be an object {timezone, days, start, end} or null");
    }
    LocalTime start = time(json.getValue("start"), "start");
    LocalTime end = time(json.getValue("end"), "end");
    if (start.equals(end)) {
      throw new IllegalArgumentException("business_hours start and end must differ");
    }
    return new BusinessHours(zone(json.getValue("timezone", "UTC")), days(json.getValue("days")), start, end);
  }

  public JsonObject toJson() {
    JsonArray names = new JsonArray();
    days.stream().sorted().forEach(d -> names.add(shortName(d)));
    return new JsonObject().put("timezone", zone.getId()).put("days", names)
        .put("start", start.toString()).put("end", end.toString());
  }

  public String describe() {
    return String.join(",", days.stream().sorted().map(BusinessHours::shortName).toList()) + " " + start + "–" + end
        + " " + zone.getId();
  }

  private static ZoneId zone(Object value) {
    try {
      if (value instanceof String id) {
        return ZoneId.of(id);
      }
    } catch (DateTimeException e) {
      // reported below
    }
    throw new IllegalArgumentException("business_hours.timezone must be an IANA zone such as Europe/Paris");
  }

  private static LocalTime time(Object value, String field) {
    try {
      if (value instanceof String text) {
        return LocalTime.parse(text);
      }
    } catch (DateTimeParseException e) {
      // reported below
    }
    throw new IllegalArgumentException("business_hours." + field + " must be HH:MM");
  }

  private static Set<DayOfWeek> days(Object value) {
    if (value == null) {
      return EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw new IllegalArgumentException("business_hours.days must be a non-empty list such as [\"mon\",\"tue\"]");
    }
    Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    for (Object item : array) {
      DayOfWeek day = EnumSet.allOf(DayOfWeek.class).stream().filter(d -> shortName(d).equals(item)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("business_hours.days: unknown day " + item
              + " (use mon, tue, wed, thu, fri, sat, sun)"));
      days.add(day);
    }
    return days;
  }

  private static String shortName(DayOfWeek d) {
    return d.getDisplayName(TextStyle.SHORT, Locale.ROOT).toLowerCase(Locale.ROOT);
  }
}
