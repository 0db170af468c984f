package io.keypulse.delivery;

import io.keypulse.api.Times;
import io.keypulse.db.NewestFirst;
import io.keypulse.db.Page;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Optional;

/** A partner's delivery history (every attempt), replays, and test deliveries. */
public final class DeliveryLog {
  private static final String COLUMNS = """
      d.id, d.delivery_id::text AS delivery_id, d.rule_id, d.alert_id, d.event_id, d.event, d.url, d.status,
      d.next_attempt_at, d.created_at, d.finished_at,
      coalesce((SELECT json_agg(json_build_object('at', a.at, 'status_code', a.status_code,
                'latency_ms', a.latency_ms, 'error', a.error) ORDER BY a.attempt)
                FROM delivery_attempts a WHERE a.partner_id = d.partner_id AND a.delivery_id = d.id), '[]'::json)
        AS attempt_log
      """;
  /** Only finished deliveries: a pending one may be in a node's hands right now. */
  private static final String REPLAY = """
      UPDATE deliveries SET status = 'pending', next_attempt_at = now(), attempt_base = attempts,
             claimed_by = NULL, claim_until = NULL, finished_at = NULL
      WHERE partner_id = $1 AND id = $2 AND status <> 'pending' RETURNING id
      """;
  /** Dead letters back in the queue, oldest first: an operator's replay after an outage. */
  private static final String REPLAY_FAILED = """
      UPDATE deliveries SET status = 'pending', next_attempt_at = now(), attempt_base = attempts,
             claimed_by = NULL, claim_until = NULL, finished_at = NULL
      WHERE id IN (SELECT id FROM deliveries WHERE status = 'failed' AND ($1::text IS NULL OR partner_id = $1)
                   AND ($2::timestamptz IS NULL OR created_at >= $2) ORDER BY id LIMIT $3)
      RETURNING id
      """;
  /** Pending deliveries per claiming node (null: waiting for a claim), and the oldest one's age. */
  private static final String PENDING_BY_NODE = "SELECT claimed_by, count(*) AS n, "
      + "coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest "
      + "FROM deliveries WHERE status = 'pending' GROUP BY claimed_by";
  /** One chunk of old finished deliveries, their attempt log first (it references them). */
  private static final String PRUNE = """
      WITH old AS (SELECT partner_id, id FROM deliveries WHERE status <> 'pending'
                   AND finished_at < now() - make_interval(days => $1) ORDER BY finished_at LIMIT $2),
      attempts AS (DELETE FROM delivery_attempts a USING old WHERE a.partner_id = old.partner_id AND a.delivery_id = old.id)
      DELETE FROM deliveries d USING old WHERE d.partner_id = old.partner_id AND d.id = old.id
      """;
  private static final String EXISTS = "SELECT 1 FROM deliveries WHERE partner_id = $1 AND id = $2";
  private static final String TEST = "INSERT INTO deliveries (partner_id, event, url, payload) "
      + "VALUES ($1, 'test', $2, $3) RETURNING id";

  /** Filters of GET /api/v1/webhooks/deliveries; null does not filter. */
  public record Filter(String partnerId, String status, Long ruleId, Long beforeId, int limit) {}

  public enum Replay { REPLAYED, PENDING, NOT_FOUND }

  private final Pool pool;

  public DeliveryLog(Pool pool) {
    this.pool = pool;
  }

  public Future<Page<JsonObject>> find(Filter f) {
    return new NewestFirst("SELECT " + COLUMNS + " FROM deliveries d", "d.partner_id", "d.id", f.partnerId())
        .where("d.status = ", f.status())
        .where("d.rule_id = ", f.ruleId())
        .page(pool, f.beforeId(), f.limit(), DeliveryLog::json, d -> d.getLong("id"));
  }

  public Future<Optional<JsonObject>> one(String partnerId, long id) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM deliveries d WHERE d.partner_id = $1 AND d.id = $2")
        .execute(Tuple.of(partnerId, id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(json(rows.iterator().next())));
  }

  /** Sends a finished delivery again, same body and delivery id, with a fresh retry budget. */
  public Future<Replay> replay(String partnerId, long id) {
    return pool.preparedQuery(REPLAY).execute(Tuple.of(partnerId, id)).compose(rows -> rows.size() == 1
        ? Future.succeededFuture(Replay.REPLAYED)
        : pool.preparedQuery(EXISTS).execute(Tuple.of(partnerId, id))
            .map(found -> found.size() == 1 ? Replay.PENDING : Replay.NOT_FOUND));
  }

  /** Deletes up to {@code limit} deliveries finished more than {@code days} ago; returns how many. */
  public Future<Integer> prune(int days, int limit) {
    return pool.preparedQuery(PRUNE).execute(Tuple.of(days, limit)).map(rows -> rows.rowCount());
  }

  /** Replays failed deliveries (of one partner, or all; created since, or ever); returns how many. */
  public Future<Integer> replayFailed(String partnerId, java.time.Instant since, int limit) {
    return pool.preparedQuery(REPLAY_FAILED)
        .execute(Tuple.of(partnerId, since == null ? null : since.atOffset(java.time.ZoneOffset.UTC), limit))
        .map(rows -> rows.rowCount());
  }

  /** The outbox as operators see it: {pending, unclaimed, oldest_seconds, by_node: {member: n}}. */
  public Future<JsonObject> pendingByNode() {
    return pool.query(PENDING_BY_NODE).execute().map(rows -> {
      JsonObject byNode = new JsonObject();
      long total = 0;
      long unclaimed = 0;
      double oldest = 0;
      for (Row r : rows) {
        long n = r.getLong("n");
        total += n;
        oldest = Math.max(oldest, r.getNumeric("oldest").doubleValue());
        if (r.getString("claimed_by") == null) {
          unclaimed = n;
        } else {
          byNode.put(r.getString("claimed_by"), n);
        }
      }
      return new JsonObject().put("pending", total).put("unclaimed", unclaimed)
          .put("oldest_seconds", Math.round(oldest * 10) / 10.0).put("by_node", byNode);
    });
  }

  /** Queues a signed test payload to the given URL; returns the delivery's id. */
  public Future<Long> test(String partnerId, String url, java.time.Instant now) {
    return pool.preparedQuery(TEST).execute(Tuple.of(partnerId, url, Payloads.test(partnerId, now)))
        .map(rows -> rows.iterator().next().getLong("id"));
  }

  private static JsonObject json(Row r) {
    JsonArray attempts = new JsonArray();
    Object log = r.getValue("attempt_log");
    if (log instanceof JsonArray list) {
      list.forEach(a -> {
        JsonObject attempt = (JsonObject) a;
        attempts.add(new JsonObject().put("at", Times.iso(OffsetDateTime.parse(attempt.getString("at")).toInstant()))
            .put("status_code", attempt.getValue("status_code")).put("latency_ms", attempt.getValue("latency_ms"))
            .put("error", attempt.getValue("error")));
      });
    }
    return new JsonObject()
        .put("id", r.getLong("id"))
        .put("delivery_id", r.getString("delivery_id"))
        .put("rule_id", r.getLong("rule_id"))
        .put("alert_id", r.getLong("alert_id"))
        .put("event_id", r.getLong("event_id"))
        .put("event", r.getString("event"))
        .put("url", r.getString("url"))
        .put("status", r.getString("status"))
        .put("attempts", attempts)
        .put("next_attempt_at", "pending".equals(r.getString("status"))
            ? Times.iso(r.getOffsetDateTime("next_attempt_at").toInstant()) : null)
        .put("created_at", Times.iso(r.getOffsetDateTime("created_at").toInstant()))
        .put("finished_at", r.getOffsetDateTime("finished_at") == null ? null
            : Times.iso(r.getOffsetDateTime("finished_at").toInstant()));
  }
}
