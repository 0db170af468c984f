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
import java.util.Locale;
import java.util.Set;

/**
 * When a key is expected to sign: {"timezone":"Europe/Paris","days":["mon",…],"start":"08:00","end":"18:00"}.
 * A start after the end spans midnight (e.g. 22:00–06:00 for a night desk).
 */
public record BusinessHours(ZoneId zone, Set<DayOfWeek> days, LocalTime start, LocalTime end) {

  public boolean contains(Instant t) {
    ZonedDateTime local = t.atZone(zone);
    LocalTime time = local.toLocalTime();
    boolean inHours = start.isBefore(end) ? !time.isBefore(start) && time.isBefore(end)
        : !time.isBefore(start) || time.isBefore(end);
    // A night shift that started yesterday belongs to yesterday's working day.
    DayOfWeek day = !start.isBefore(end) && time.isBefore(end) ? local.getDayOfWeek().minus(1) : local.getDayOfWeek();
    return inHours && days.contains(day);
  }

  /** Parses and validates; the message says what is wrong. */
  public static BusinessHours parse(Object value) {
    if (!(value instanceof JsonObject json)) {
      throw new IllegalArgumentException("business_hours must be an object {timezone, days, start, end} or null");
    }
    try {
      ZoneId zone = ZoneId.of(json.getString("timezone", "UTC"));
      LocalTime start = LocalTime.parse(json.getString("start", ""));
      LocalTime end = LocalTime.parse(json.getString("end", ""));
      if (start.equals(end)) {
        throw new IllegalArgumentException("business_hours start and end must differ");
      }
      return new BusinessHours(zone, days(json.getValue("days")), start, end);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("business_hours start and end must be HH:MM");
    } catch (DateTimeException | ClassCastException e) {
      throw new IllegalArgumentException("business_hours.timezone must be an IANA zone such as Europe/Paris");
    }
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
