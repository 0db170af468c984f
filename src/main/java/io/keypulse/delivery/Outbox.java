package io.keypulse.delivery;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The deliveries table as the delivery actors use it. A node claims due rows with a lease (FOR
 * UPDATE SKIP LOCKED, then claimed_by/claim_until), so no row is sent by two nodes at once; rows
 * of a node that died are claimable again once their lease expires.
 */
final class Outbox {
  /**
   * Due rows, oldest first, skipping endpoints this node already has at its concurrency limit and
   * taking at most that many per endpoint, so a dead endpoint's backlog is not claimed only to be
   * handed back.
   */
  private static final String CLAIM = """
      UPDATE deliveries d SET claimed_by = $1, claim_until = now() + make_interval(secs => $3)
      FROM (SELECT id, row_number() OVER (PARTITION BY endpoint ORDER BY next_attempt_at, id) AS nth
            FROM (SELECT id, endpoint, next_attempt_at FROM deliveries
                  WHERE status = 'pending' AND next_attempt_at <= now()
                    AND (claim_until IS NULL OR claim_until < now()) AND NOT (endpoint = ANY($4::text[]))
                  ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) candidates) due
      WHERE d.id = due.id AND due.nth <= $5
      RETURNING d.id, d.delivery_id::text AS delivery_id, d.partner_id, d.rule_id, d.alert_id, d.event_id, d.event,
                d.url, d.endpoint, d.payload, d.attempts, d.attempt_base
      """;
  private static final String EVENTS = "SELECT id, event_type, key_id, occurred_at, details FROM events WHERE id = ANY($1)";
  private static final String ALERTS = "SELECT id, key_id, rule, kind, severity, description, evidence, triggered_at, "
      + "created_at FROM alerts WHERE id = ANY($1)";
  private static final String FIX_PAYLOAD = "UPDATE deliveries SET payload = $2 WHERE id = $1 AND payload IS NULL "
      + "RETURNING payload";
  private static final String CURRENT_PAYLOAD = "SELECT payload FROM deliveries WHERE id = $1";
  private static final String RECORD = """
      WITH attempt AS (
        INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, latency_ms, error, node)
        VALUES ($1, $2, $3, $4, $5, $6, $9) ON CONFLICT DO NOTHING
      )
      UPDATE deliveries SET attempts = $2, status = $7, next_attempt_at = $8, claimed_by = NULL, claim_until = NULL,
             finished_at = CASE WHEN $7 = 'pending' THEN NULL ELSE now() END
      WHERE id = $1 AND claimed_by = $9
      """;
  private static final String RELEASE = "UPDATE deliveries SET claimed_by = NULL, claim_until = NULL, "
      + "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1 AND claimed_by = $2";
  private static final String DEPTH = "SELECT count(*) AS depth, coalesce(extract(epoch FROM now() - min(created_at)), 0) "
      + "AS oldest FROM deliveries WHERE status = 'pending'";

  /** What an attempt came to. */
  record Attempt(int number, Instant at, Integer statusCode, long latencyMs, String error) {}

  private final Pool pool;
  private final String node;

  Outbox(Pool pool, String node) {
    this.pool = pool;
    this.node = node;
  }

  Future<List<Delivery>> claim(int limit, int leaseSeconds, List<String> busyEndpoints, int perEndpoint) {
    Tuple args = Tuple.of(node, limit, leaseSeconds, busyEndpoints.toArray(String[]::new), perEndpoint);
    return pool.preparedQuery(CLAIM).execute(args).map(rows -> {
      List<Delivery> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new Delivery(r.getLong("id"), r.getString("delivery_id"), r.getString("partner_id"), r.getLong("rule_id"),
            r.getLong("alert_id"), r.getLong("event_id"), r.getString("event"), r.getString("url"),
            r.getString("endpoint"), r.getString("payload"), r.getInteger("attempts"), r.getInteger("attempt_base")));
      }
      return out;
    });
  }

  /**
   * Gives every claimed delivery its body: the one fixed at its first attempt, or a new one built
   * from its event or alert and fixed now (the first writer wins, so all attempts send one body).
   */
  Future<List<Delivery>> withPayloads(List<Delivery> claimed) {
    List<Delivery> missing = claimed.stream().filter(d -> d.payload() == null).toList();
    if (missing.isEmpty()) {
      return Future.succeededFuture(claimed);
    }
    Long[] eventIds = missing.stream().filter(d -> d.ruleId() != null).map(Delivery::eventId).toArray(Long[]::new);
    Long[] alertIds = missing.stream().filter(d -> d.alertId() != null).map(Delivery::alertId).toArray(Long[]::new);
    Future<Map<Long, Row>> events = rowsById(EVENTS, eventIds);
    Future<Map<Long, Row>> alerts = rowsById(ALERTS, alertIds);
    return Future.all(events, alerts).compose(done -> {
      List<Future<Delivery>> fixed = new ArrayList<>();
      for (Delivery d : claimed) {
        if (d.payload() != null) {
          fixed.add(Future.succeededFuture(d));
          continue;
        }
        String body = d.ruleId() != null
            ? Payloads.ruleMatch(events.result().get(d.eventId()), d.ruleId())
            : Payloads.alert(alerts.result().get(d.alertId()), d.partnerId());
        fixed.add(fix(d, body));
      }
      return Future.all(fixed).map(all -> fixed.stream().map(Future::result).toList());
    });
  }

  private Future<Delivery> fix(Delivery d, String body) {
    return pool.preparedQuery(FIX_PAYLOAD).execute(Tuple.of(d.id(), body)).compose(rows -> rows.size() == 1
        ? Future.succeededFuture(d.withPayload(body))
        : pool.preparedQuery(CURRENT_PAYLOAD).execute(Tuple.of(d.id()))
            .map(r -> d.withPayload(r.iterator().next().getString("payload"))));
  }

  private Future<Map<Long, Row>> rowsById(String sql, Long[] ids) {
    if (ids.length == 0) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery(sql).execute(Tuple.of(ids)).map(rows -> {
      Map<Long, Row> byId = new HashMap<>();
      rows.forEach(r -> byId.put(r.getLong("id"), r));
      return byId;
    });
  }

  Future<Void> record(Delivery d, Attempt a, String status, Instant nextAttempt) {
    Tuple t = Tuple.tuple().addLong(d.id()).addInteger(a.number()).addOffsetDateTime(a.at().atOffset(ZoneOffset.UTC))
        .addInteger(a.statusCode()).addInteger((int) a.latencyMs()).addString(a.error()).addString(status)
        .addOffsetDateTime(nextAttempt.atOffset(ZoneOffset.UTC)).addString(node);
    return pool.preparedQuery(RECORD).execute(t).mapEmpty();
  }

  /** Hands a claimed delivery back, to be tried again after {@code seconds}. */
  Future<Void> release(Delivery d, double seconds) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(d.id(), node, seconds)).mapEmpty();
  }

  Future<JsonObject> depth() {
    return pool.query(DEPTH).execute().map(rows -> {
      Row r = rows.iterator().next();
      return new JsonObject().put("depth", r.getLong("depth")).put("oldest_seconds", r.getDouble("oldest"));
    });
  }
}
