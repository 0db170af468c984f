package io.keypulse.store;

import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.keypulse.db.NewestFirst;
import io.keypulse.db.Page;
import io.keypulse.db.Weeks;
import io.keypulse.json.ExactJson;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** Reads of the events table: newest first, always scoped to one partner, cursor on id. */
public final class EventQueries {
  static final String COLUMNS = "id, partner_id, key_id, event_type, canonical_type, severity, severity_derived, "
      + "score, source_ip, actor, details::text AS details, occurred_at, created_at";

  private static final String AFTER =
      "SELECT " + COLUMNS + " FROM events WHERE partner_id = $1 AND id > $2 ORDER BY id LIMIT $3";

  /** An ingest's events with what it reported of them: the rule matches and alerts each raised. */
  private static final String RECALL = "SELECT " + COLUMNS + ", "
      // Written with the event, or after it: from its week on (the week before, for a flush whose
      // transaction began as the week turned).
      + "(SELECT count(*) FROM deliveries d WHERE d.partner_id = e.partner_id AND d.event_id = e.id "
      + "AND d.rule_id IS NOT NULL AND d.id >= ((e.id >> 36) - 1) << 36) AS rule_matches, "
      + "(SELECT count(*) FROM alerts a WHERE a.partner_id = e.partner_id AND a.event_id = e.id "
      + "AND a.id >= ((e.id >> 36) - 1) << 36) AS alerts "
      + "FROM events e WHERE partner_id = $1 AND id = ANY($2) ORDER BY id";

  private final Pool pool;
  private final Duration futureSkew;

  /** futureSkew: how far ahead of its commit an event's occurred_at may be (ingest.max_future_skew_seconds). */
  public EventQueries(Pool pool, Duration futureSkew) {
    this.pool = pool;
    this.futureSkew = futureSkew;
  }

  public Future<Page<StoredEvent>> find(EventFilter f) {
    return new NewestFirst("SELECT " + COLUMNS + " FROM events", "partner_id", "id", f.partnerId())
        .where("key_id = ", f.keyId())
        .where("event_type = ", f.eventType())
        .where("severity = ", f.severity())
        .where("occurred_at >= ", f.since() == null ? null : f.since().atOffset(ZoneOffset.UTC))
        .where("occurred_at <= ", f.until() == null ? null : f.until().atOffset(ZoneOffset.UTC))
        // An event that happened at or after since was committed at most futureSkew before it.
        .from(f.since() == null ? null : Weeks.firstIdFrom(f.since().minus(futureSkew)))
        .page(pool, f.beforeId(), f.limit(), EventQueries::event, StoredEvent::id);
  }

  /** The partner's events after an id, oldest first: what a resuming live stream missed. */
  public Future<List<StoredEvent>> after(String partnerId, long afterId, int limit) {
    return pool.preparedQuery(AFTER).execute(Tuple.of(partnerId, afterId, limit)).map(rows -> {
      List<StoredEvent> events = new ArrayList<>(rows.size());
      rows.forEach(row -> events.add(event(row)));
      return events;
    });
  }

  /** Events by id with their rule matches, and per event the alerts it raised (an ingest's lost answer, rebuilt). */
  public record Recalled(List<StoredEvent> events, List<Integer> alerts) {}

  public Future<Recalled> recall(String partnerId, long[] ids) {
    Long[] boxed = java.util.Arrays.stream(ids).boxed().toArray(Long[]::new);
    return pool.preparedQuery(RECALL).execute(Tuple.of(partnerId).addArrayOfLong(boxed)).map(rows -> {
      List<StoredEvent> events = new ArrayList<>(rows.size());
      List<Integer> alerts = new ArrayList<>(rows.size());
      for (Row row : rows) {
        StoredEvent e = event(row);
        events.add(new StoredEvent(e.id(), e.event(), e.score(), e.occurredAt(), e.createdAt(), 0,
            row.getLong("rule_matches").intValue()));
        alerts.add(row.getLong("alerts").intValue());
      }
      return new Recalled(events, alerts);
    });
  }

  /** The id of the partner's newest event, 0 when it has none: where a fresh live stream starts counting. */
  public Future<Long> newestId(String partnerId) {
    return new NewestFirst("SELECT id FROM events", "partner_id", "id", partnerId)
        .page(pool, null, 1, row -> row.getLong("id"), id -> id)
        .map(page -> page.items().isEmpty() ? 0L : page.items().get(0));
  }

  public static StoredEvent event(Row row) {
    Float score = row.getFloat("score");
    // As text: the driver would parse the json column through Double, and 1e3 would come back as 1000.0.
    String details = row.getString("details");
    NewEvent event = new NewEvent(row.getString("partner_id"), row.getString("key_id"), row.getString("event_type"),
        row.getString("canonical_type"), row.getString("severity"), row.getBoolean("severity_derived"),
        row.getString("source_ip"),
        row.getString("actor"), details == null ? null : ExactJson.object(details), null, details);
    return new StoredEvent(row.getLong("id"), event, score == null ? null : StoredEvent.score(score),
        row.getOffsetDateTime("occurred_at").toInstant(), row.getOffsetDateTime("created_at").toInstant(), 0, 0);
  }
}
