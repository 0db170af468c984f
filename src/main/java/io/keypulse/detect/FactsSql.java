package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;

/**
 * Reading {@link EventFacts} straight from the events table, for one key in id order (catch-ups).
 * previous_id is only meaningful within the rows read.
 */
public final class FactsSql {
  public static final String COLUMNS = "id, partner_id, key_id, event_type, canonical_type, severity, severity_derived, "
      + "source_ip, actor, details->>'policy' AS policy, occurred_at, created_at, "
      + "coalesce(lag(id) OVER (ORDER BY id), 0) AS previous_id";

  private FactsSql() {}

  public static EventFacts read(Row r) {
    return new EventFacts(r.getLong("id"), r.getString("partner_id"), r.getString("key_id"),
        r.getString("event_type"), r.getString("canonical_type"), r.getString("severity"),
        r.getBoolean("severity_derived"), r.getString("source_ip"), r.getString("actor"), r.getString("policy"),
        millis(r.getOffsetDateTime("occurred_at")), millis(r.getOffsetDateTime("created_at")), r.getLong("previous_id"));
  }

  static long millis(OffsetDateTime t) {
    return t == null ? KeyState.NEVER : t.toInstant().toEpochMilli();
  }
}
