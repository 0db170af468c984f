package io.keypulse.live;

/**
 * Where a live stream stands: the last event and the last alert it sent. An SSE event's id is its
 * event id; an alert's is {@code <last event id>:<alert id>}, so a browser's Last-Event-ID resumes
 * events exactly either way, and alerts exactly when an alert was the last thing it saw. With an
 * event id alone, alerts resume from shortly before that event (at least once). A stream opened
 * without a cursor counts from the partner's newest event and alert at that moment, so an alert sent
 * before any event names that event, and resuming from it skips the partner's history.
 *
 * @param alertId null when the stream resumes from an event id alone
 */
record Cursor(long eventId, Long alertId) {

  /** Null when the text is not a cursor (the stream then starts live, with nothing replayed). */
  static Cursor parse(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String[] parts = text.trim().split(":", -1);
    try {
      long event = Long.parseLong(parts[0]);
      Long alert = parts.length == 2 ? Long.valueOf(parts[1]) : null;
      if (parts.length > 2 || event < 0 || (alert != null && alert < 0)) {
        return null;
      }
      return new Cursor(event, alert);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static String eventId(long eventId) {
    return Long.toString(eventId);
  }

  static String alertId(long lastEventId, long alertId) {
    return lastEventId + ":" + alertId;
  }
}
