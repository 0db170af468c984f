package io.keypulse.detect;

import io.keypulse.db.NewestFirst;
import io.keypulse.db.Page;
import io.keypulse.db.Weeks;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A partner's alert history: newest first, cursor on id; and acknowledging an alert, with a verdict. */
public final class AlertQueries {
  private static final String COLUMNS = "id, key_id, rule, kind, severity, description, evidence, status, repeat_count, "
      + "event_id, triggered_at, created_at, acked_at, escalated_from, resolution, note, resolved_at";
  /** An ack without a verdict keeps the one given before; a verdict replaces resolution and note together. */
  private static final String ACK = """
      UPDATE alerts SET status = 'acked', acked_at = coalesce(acked_at, now()),
        resolution = coalesce($3::text, resolution),
        note = CASE WHEN $3::text IS NULL THEN note ELSE $4::text END,
        resolved_at = CASE WHEN $3::text IS NULL THEN resolved_at ELSE now() END
      WHERE id = $1 AND partner_id = $2 RETURNING\s""" + COLUMNS;

  private static final String AFTER =
      "SELECT " + COLUMNS + " FROM alerts WHERE partner_id = $1 AND id > $2 ORDER BY id LIMIT $3";
  /**
   * Alerts are committed after their events; 5 s of slack makes "raised since" err on repeating one.
   * The event is looked for in its week and the one before, and alerts before it in the weeks up to
   * its own (alert ids are weekly too, V15), so that neither reads the whole history.
   */
  private static final String BEFORE_EVENT = """
      WITH e AS (SELECT e.created_at - interval '5 seconds' AS since FROM events e
                 WHERE e.partner_id = $1 AND e.id <= $2 AND e.id >= $3 ORDER BY e.id DESC LIMIT 1)
      SELECT coalesce(max(a.id), 0) AS id FROM alerts a, e
      WHERE a.partner_id = $1 AND a.id < $4 AND a.created_at < e.since
      """;

  /** Filters of GET /api/alerts; null does not filter. */
  public record Filter(String partnerId, String keyId, String rule, String severity, String status, Long beforeId,
                       int limit) {}

  private final Pool pool;

  public AlertQueries(Pool pool) {
    this.pool = pool;
  }

  public Future<Page<JsonObject>> find(Filter f) {
    return new NewestFirst("SELECT " + COLUMNS + " FROM alerts", "partner_id", "id", f.partnerId())
        .where("key_id = ", f.keyId())
        .where("rule = ", f.rule())
        .where("severity = ", f.severity())
        .where("status = ", f.status())
        .page(pool, f.beforeId(), f.limit(), AlertQueries::json, a -> a.getLong("id"));
  }

  /**
   * Empty when the partner has no such alert. resolution (true_positive, false_positive, benign)
   * and note may be null: an ack without a verdict.
   */
  public Future<Optional<JsonObject>> ack(String partnerId, long id, String resolution, String note) {
    return pool.preparedQuery(ACK).execute(Tuple.of(id, partnerId, resolution, note))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(json(rows.iterator().next())));
  }

  /** The partner's alerts after an id, oldest first: what a resuming live stream missed. */
  public Future<List<JsonObject>> after(String partnerId, long afterId, int limit) {
    return pool.preparedQuery(AFTER).execute(Tuple.of(partnerId, afterId, limit)).map(rows -> {
      List<JsonObject> alerts = new ArrayList<>(rows.size());
      rows.forEach(row -> alerts.add(json(row)));
      return alerts;
    });
  }

  /** The id of the partner's newest alert, 0 when it has none: where a fresh live stream starts counting. */
  public Future<Long> newestId(String partnerId) {
    return new NewestFirst("SELECT id FROM alerts", "partner_id", "id", partnerId)
        .page(pool, null, 1, row -> row.getLong("id"), id -> id)
        .map(page -> page.items().isEmpty() ? 0L : page.items().get(0));
  }

  /**
   * The last alert surely raised before an event was committed: where a stream resumed by event id
   * alone picks up alerts (at least once; a few may repeat).
   */
  public Future<Long> lastAlertBefore(String partnerId, long eventId) {
    long week = Weeks.weekOf(eventId);
    return pool.preparedQuery(BEFORE_EVENT).execute(Tuple.of(partnerId, eventId, Weeks.base(week - 1), Weeks.base(week + 2)))
        .map(rows -> rows.iterator().next().getLong("id"));
  }

  private static JsonObject json(Row r) {
    return new JsonObject()
        .put("id", r.getLong("id"))
        .put("key_id", r.getString("key_id"))
        .put("rule", r.getString("rule"))
        .put("kind", r.getString("kind"))
        .put("severity", r.getString("severity"))
        .put("description", r.getString("description"))
        .put("evidence", r.getJsonObject("evidence"))
        .put("status", r.getString("status"))
        .put("repeat_count", r.getInteger("repeat_count"))
        .put("escalated_from", r.getString("escalated_from"))
        .put("event_id", r.getLong("event_id"))
        .put("triggered_at", iso(r, "triggered_at"))
        .put("created_at", iso(r, "created_at"))
        .put("acked_at", iso(r, "acked_at"))
        .put("resolution", r.getString("resolution"))
        .put("note", r.getString("note"))
        .put("resolved_at", iso(r, "resolved_at"));
  }

  private static String iso(Row r, String column) {
    var t = r.getOffsetDateTime(column);
    return t == null ? null : io.keypulse.api.Times.iso(t.toInstant());
  }
}
