package io.keypulse.delivery;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The deliveries table as the delivery actors use it. A node claims due rows with a lease (FOR
 * UPDATE SKIP LOCKED, then claimed_by/claim_until), so no row is sent by two nodes at once; rows
 * of a node that died are claimable again once their lease expires.
 *
 * <p>Every statement that changes several deliveries that others may be changing too locks them in
 * id order first (a CTE with ORDER BY id FOR UPDATE), then updates them. Left to its plan, an update
 * locks rows in whatever order it reads them: a sequential scan (the lease renewal of a few thousand
 * held rows) goes in physical order, an index scan (a batch of 16 recorded attempts) in id order,
 * and the two deadlocked under load ("could not renew webhook claims: deadlock detected"; a renewal
 * that keeps failing lets leases lapse and another node send the same webhook again).
 */
final class Outbox {
  /**
   * Due rows nobody holds, oldest first, skipping endpoints this node already holds its share of
   * and taking at most that share per endpoint. Candidates are read without locks; only the rows
   * taken are locked (FOR UPDATE SKIP LOCKED, re-checked, so two nodes never take one row and never
   * wait for each other), and their lease is written in the same statement. The rows taken are
   * matched against the candidates' ids as one array, computed once (= ANY(ARRAY(...))), not joined
   * to them: the outbox grows from empty faster than its statistics, and with them stale the planner
   * made the join a nested loop that recomputed the candidates for each of 9 606 due rows (6.5 s
   * per claim: webhooks fell ever further behind; now ~0.1 s in that worst case, OutboxClaimPlanTest).
   */
  static final String CLAIM = """
      WITH candidates AS (
        SELECT id, row_number() OVER (PARTITION BY endpoint ORDER BY next_attempt_at, id) AS nth
        FROM (SELECT id, endpoint, next_attempt_at FROM deliveries
              WHERE status = 'pending' AND claimed_by IS NULL AND next_attempt_at <= now()
                AND NOT (endpoint = ANY($4::text[]))
              ORDER BY next_attempt_at LIMIT $6) due
      ),
      taken AS (
        SELECT d.id FROM deliveries d
        WHERE d.id = ANY (ARRAY(SELECT id FROM candidates WHERE nth <= $5))
          AND d.status = 'pending' AND d.claimed_by IS NULL
        ORDER BY d.next_attempt_at LIMIT $2
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE deliveries d SET claimed_by = $1, claim_until = now() + make_interval(secs => $3)
      FROM taken WHERE d.id = taken.id
      RETURNING d.id, d.delivery_id::text AS delivery_id, d.partner_id, d.rule_id, d.alert_id, d.event_id, d.event,
                d.url, d.endpoint, d.payload, d.attempts, d.attempt_base
      """;
  /** Claims whose node stopped renewing them: anyone may send them now. A row being changed waits for the next round. */
  private static final String REAP = """
      WITH lapsed AS (
        SELECT id FROM deliveries WHERE status = 'pending' AND claimed_by IS NOT NULL AND claim_until < now()
        ORDER BY id FOR UPDATE SKIP LOCKED
      )
      UPDATE deliveries d SET claimed_by = NULL, claim_until = NULL FROM lapsed WHERE d.id = lapsed.id
      """;
  /** How far down the due queue one claim looks for endpoints with room. */
  private static final int CANDIDATES = 2000;
  /**
   * The events of claimed rule matches, each by its primary key (partner, id). Asked as "partner_id =
   * ANY(partners) AND id = ANY(ids)", a week's partition without statistics yet (a new week, or
   * vacuumed and not yet analyzed) was read through events_by_key instead, every event of the
   * partner in it: 110-190 ms per claim of ~1 000, back to back, while a node caught up on its outbox
   * (auto_explain under scripts/bench webhooks). A plain join is no better: it may hash a seq scan of
   * the week. One probe of the primary key per event, LATERAL with its LIMIT, is a plan the statistics
   * cannot change: ~3 pages an event.
   */
  static final String EVENTS = """
      SELECT e.id, e.event_type, e.key_id, e.occurred_at, e.details::text AS details
      FROM unnest($1::bigint[], $2::text[]) AS u(id, partner_id)
      CROSS JOIN LATERAL (SELECT id, event_type, key_id, occurred_at, details FROM events
                          WHERE partner_id = u.partner_id AND id = u.id LIMIT 1) e
      """;
  /** By the unique id index (V17), which the planner trusts with or without statistics. */
  private static final String ALERTS = "SELECT id, key_id, rule, kind, severity, description, evidence, triggered_at, "
      + "created_at FROM alerts WHERE partner_id = ANY($2) AND id = ANY($1)";
  /**
   * A batch of finished attempts: their log rows, and each delivery's new state, claim released.
   * The rows are named by id twice, as the array (= ANY, which the id index answers) and joined to
   * their new values: joined only, the planner took "claimed_by = this node" for a row or two and
   * read every week's deliveries in full for each batch (4.8 ms a batch on a table of 10 000 rows,
   * more of Postgres's CPU than the ingest flushes of the same webhooks), growing with the table.
   */
  static final String RECORD = """
      WITH attempt AS (
        INSERT INTO delivery_attempts (partner_id, delivery_id, attempt, at, status_code, latency_ms, error, node)
        SELECT u.partner_id, u.id, u.attempt, u.at, u.code, u.latency, u.error, $9
        FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $10::text[])
             AS u(id, attempt, at, code, latency, error, partner_id)
        ON CONFLICT DO NOTHING
      ),
      held AS (SELECT id FROM deliveries WHERE id = ANY($1) AND claimed_by = $9 ORDER BY id FOR UPDATE)
      UPDATE deliveries d SET attempts = u.attempt, status = u.status, next_attempt_at = u.next, claimed_by = NULL,
             claim_until = NULL, finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE now() END
      FROM unnest($1::bigint[], $2::int[], $7::text[], $8::timestamptz[]) AS u(id, attempt, status, next)
      WHERE d.id = ANY(ARRAY(SELECT id FROM held)) AND d.id = u.id
      """;
  private static final String RELEASE = """
      WITH held AS (SELECT id FROM deliveries WHERE id = ANY($1) AND claimed_by = $2 ORDER BY id FOR UPDATE)
      UPDATE deliveries d SET claimed_by = NULL, claim_until = NULL, next_attempt_at = now() + make_interval(secs => $3)
      WHERE d.id = ANY(ARRAY(SELECT id FROM held))
      """;
  static final String RENEW = """
      WITH held AS (SELECT id FROM deliveries WHERE id = ANY($1) AND claimed_by = $2 ORDER BY id FOR UPDATE)
      UPDATE deliveries d SET claim_until = now() + make_interval(secs => $3) WHERE d.id = ANY(ARRAY(SELECT id FROM held))
      """;
  /** A URL's deliveries waiting out a backoff step, due now (it has answered again). */
  private static final String EXPEDITE = """
      WITH waiting AS (
        SELECT id FROM deliveries WHERE url = $1 AND status = 'pending' AND claimed_by IS NULL AND next_attempt_at > now()
        ORDER BY id FOR UPDATE
      )
      UPDATE deliveries d SET next_attempt_at = now() WHERE d.id = ANY(ARRAY(SELECT id FROM waiting))
      """;
  private static final String DEPTH = "SELECT count(*) AS depth, coalesce(extract(epoch FROM now() - min(created_at)), 0) "
      + "AS oldest FROM deliveries WHERE status = 'pending'";

  /** What an attempt came to. */
  record Attempt(int number, Instant at, Integer statusCode, long latencyMs, String error) {}

  /** An attempt and what follows from it: the delivery's new status and when it is next due. */
  record Outcome(Delivery delivery, Attempt attempt, String status, Instant next) {}

  private final Pool pool;
  private final String node;

  Outbox(Pool pool, String node) {
    this.pool = pool;
    this.node = node;
  }

  Future<List<Delivery>> claim(int limit, int leaseSeconds, List<String> busyEndpoints, int perEndpoint) {
    Tuple args = Tuple.tuple().addString(node).addInteger(limit).addInteger(leaseSeconds)
        .addArrayOfString(busyEndpoints.toArray(String[]::new)).addInteger(perEndpoint).addInteger(CANDIDATES);
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
   * Gives every claimed delivery its body. A rule match's or an alert's is built from its event or
   * alert row, the same bytes at every attempt: the fields it is built from never change once
   * written (the score and an alert's repeats and acknowledgement are not in it), and an
   * escalation freezes the bodies of the alert's queued deliveries before it changes the row. A
   * test send, and an escalation's own webhook, carry their body.
   */
  Future<List<Delivery>> withPayloads(List<Delivery> claimed) {
    Map<Long, String> eventPartners = new HashMap<>();
    claimed.stream().filter(d -> d.payload() == null && d.ruleId() != null)
        .forEach(d -> eventPartners.put(d.eventId(), d.partnerId()));
    Long[] alertIds = claimed.stream().filter(d -> d.payload() == null && d.alertId() != null).map(Delivery::alertId)
        .toArray(Long[]::new);
    String[] partners = claimed.stream().map(Delivery::partnerId).distinct().toArray(String[]::new);
    Long[] eventIds = new Long[eventPartners.size()];
    String[] eventPartnerIds = new String[eventPartners.size()];
    int i = 0;
    for (Map.Entry<Long, String> e : eventPartners.entrySet()) {
      eventIds[i] = e.getKey();
      eventPartnerIds[i++] = e.getValue();
    }
    Future<Map<Long, Row>> events = rowsById(EVENTS, eventIds, eventPartnerIds);
    Future<Map<Long, Row>> alerts = rowsById(ALERTS, alertIds, partners);
    return Future.all(events, alerts).map(done -> claimed.stream().map(d -> d.payload() != null ? d
        : d.withPayload(d.ruleId() != null
            ? Payloads.ruleMatch(events.result().get(d.eventId()), d.ruleId())
            : Payloads.alert(alerts.result().get(d.alertId()), d.partnerId(), null))).toList());
  }

  private Future<Map<Long, Row>> rowsById(String sql, Long[] ids, String[] partners) {
    if (ids.length == 0) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery(sql).execute(Tuple.tuple().addArrayOfLong(ids).addArrayOfString(partners)).map(rows -> {
      Map<Long, Row> byId = new HashMap<>();
      rows.forEach(r -> byId.put(r.getLong("id"), r));
      return byId;
    });
  }

  /** Records finished attempts, one statement for the batch. */
  Future<Void> record(List<Outcome> batch) {
    int n = batch.size();
    Long[] ids = new Long[n];
    Integer[] numbers = new Integer[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    Integer[] codes = new Integer[n];
    Integer[] latencies = new Integer[n];
    String[] errors = new String[n];
    String[] statuses = new String[n];
    OffsetDateTime[] next = new OffsetDateTime[n];
    String[] partners = new String[n];
    for (int i = 0; i < n; i++) {
      Outcome o = batch.get(i);
      partners[i] = o.delivery().partnerId();
      ids[i] = o.delivery().id();
      numbers[i] = o.attempt().number();
      at[i] = o.attempt().at().atOffset(ZoneOffset.UTC);
      codes[i] = o.attempt().statusCode();
      latencies[i] = (int) o.attempt().latencyMs();
      errors[i] = o.attempt().error();
      statuses[i] = o.status();
      next[i] = o.next().atOffset(ZoneOffset.UTC);
    }
    Tuple t = Tuple.tuple().addArrayOfLong(ids).addArrayOfInteger(numbers).addArrayOfOffsetDateTime(at)
        .addArrayOfInteger(codes).addArrayOfInteger(latencies).addArrayOfString(errors).addArrayOfString(statuses)
        .addArrayOfOffsetDateTime(next).addString(node).addArrayOfString(partners);
    return pool.preparedQuery(RECORD).execute(t).mapEmpty();
  }

  /** Hands back the claims of nodes that stopped renewing them; returns how many. */
  Future<Integer> reap() {
    return pool.query(REAP).execute().map(rows -> rows.rowCount());
  }

  /** Hands claimed deliveries back, to be tried again (by any node) after {@code seconds}. */
  Future<Void> release(Long[] ids, double seconds) {
    if (ids.length == 0) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(RELEASE).execute(Tuple.tuple().addArrayOfLong(ids).addString(node).addDouble(seconds))
        .mapEmpty();
  }

  /** Extends the lease on deliveries this node still holds (queued, in flight, or not yet recorded). */
  Future<Void> renew(Long[] ids, int leaseSeconds) {
    if (ids.length == 0) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(RENEW).execute(Tuple.tuple().addArrayOfLong(ids).addString(node).addInteger(leaseSeconds))
        .mapEmpty();
  }

  Future<Integer> expedite(String url) {
    return pool.preparedQuery(EXPEDITE).execute(Tuple.of(url)).map(rows -> rows.rowCount());
  }

  Future<JsonObject> depth() {
    return pool.query(DEPTH).execute().map(rows -> {
      Row r = rows.iterator().next();
      return new JsonObject().put("depth", r.getLong("depth")).put("oldest_seconds", r.getDouble("oldest"));
    });
  }
}
