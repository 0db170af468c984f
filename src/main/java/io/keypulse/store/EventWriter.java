package io.keypulse.store;

import io.keypulse.bus.IdempotencyClaim;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.keypulse.idempotency.IdempotencyKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes group commits: all events of a flush, their keys' rows and the stats counters, in one
 * transaction of pipelined statements, the COMMIT included: one round trip. Each event learns the id of
 * its key's previous event, so that detection can follow every key in commit order. Alert
 * rules are matched here too: a match's outbox row commits with its event, claimed by this node
 * under the delivery lease, so that its webhook goes out from memory at once (and, should this node
 * die first, from the outbox once the lease runs out).
 *
 * <p>Flushes run on {@code store.writers} connections, one after another on each (round robin), so
 * that several are in Postgres at once: their events go in side by side, on as many backends. Each
 * draws its ids as one block, and waits, before it touches the rows flushes share and commits, until
 * every flush that drew before it has ended (V18), so ids still increase in commit order across the
 * cluster, and flushes commit, and are answered, in the order they were sent.
 */
final class EventWriter {
  /** The flush's ids, one block, and its place in the commit order (V18). */
  private static final String CLAIM_IDS = "SELECT keypulse_claim_event_ids($1)";
  /** Waits for the flushes that drew ids before this one, then takes the cluster's write lock. */
  private static final String AWAIT_TURN = "SELECT keypulse_await_earlier_flushes()";

  /**
   * Per key of a flush, what its row in keys gains: written by the events' statement, read by the
   * shared rows' statement after the wait. A temporary table (one per writer connection, emptied at
   * commit): no WAL, and nothing of one flush is seen by another.
   */
  private static final String FLUSH_KEYS = """
      CREATE TEMP TABLE IF NOT EXISTS flush_keys (
        partner_id text, key_id text, events bigint, last_id bigint, first_at timestamptz, last_at timestamptz,
        created_at timestamptz, deleted_at timestamptz, rotated_at timestamptz, first_signed_at timestamptz,
        last_signed_at timestamptz, first_used_at timestamptz, last_used_at timestamptz, name text, key_type text,
        nominal bigint, warning bigint, critical bigint
      ) ON COMMIT DELETE ROWS
      """;

  /**
   * The flush's events, with the ids drawn for them in input order, and its rule matches: new rows
   * only, so that flushes in Postgres at once never wait for each other here.
   */
  private static final String INSERT_EVENTS = """
      WITH ins AS (
        INSERT INTO events (id, partner_id, key_id, event_type, canonical_type, severity, severity_derived, source_ip,
                            actor, details, occurred_at, created_at)
        SELECT current_setting('keypulse.first_event_id')::bigint + u.ord - 1, u.partner_id, u.key_id, u.event_type,
               u.canonical_type, u.severity, u.severity_derived, u.source_ip, u.actor, u.details::json,
               coalesce(u.occurred_at, statement_timestamp()), statement_timestamp()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[],
                    $9::text[], $10::timestamptz[])
             WITH ORDINALITY AS u(partner_id, key_id, event_type, canonical_type, severity, severity_derived,
                                  source_ip, actor, details, occurred_at, ord)
        ORDER BY u.ord
        RETURNING id, partner_id, key_id, event_type, canonical_type, severity, details, occurred_at, created_at
      ),
      per_key AS (
        INSERT INTO flush_keys
        SELECT partner_id, key_id, count(*), max(id), min(occurred_at), max(occurred_at),
               max(occurred_at) FILTER (WHERE canonical_type = 'create'),
               max(occurred_at) FILTER (WHERE canonical_type = 'delete'),
               max(occurred_at) FILTER (WHERE canonical_type = 'rotate'),
               min(occurred_at) FILTER (WHERE canonical_type = 'sign'),
               max(occurred_at) FILTER (WHERE canonical_type = 'sign'),
               min(occurred_at) FILTER (WHERE canonical_type IN ('access', 'export', 'sign')),
               max(occurred_at) FILTER (WHERE canonical_type IN ('access', 'export', 'sign')),
               (array_agg(details->>'name' ORDER BY id DESC)
                  FILTER (WHERE canonical_type = 'create' AND details->>'name' IS NOT NULL))[1],
               (array_agg(details->>'key_type' ORDER BY id DESC)
                  FILTER (WHERE canonical_type = 'create' AND details->>'key_type' IS NOT NULL))[1],
               count(*) FILTER (WHERE severity = 'nominal'), count(*) FILTER (WHERE severity = 'warning'),
               count(*) FILTER (WHERE severity = 'critical')
        FROM ins GROUP BY partner_id, key_id
      ),
      matched AS (
        INSERT INTO deliveries (partner_id, rule_id, event_id, event, url, claimed_by, claim_until)
        SELECT i.partner_id, r.id, i.id, 'rule_match', r.webhook_url, $11, statement_timestamp() + make_interval(secs => $12)
        FROM ins i JOIN rules r ON r.partner_id = i.partner_id AND r.is_active
          AND (r.event_type_match = '*' OR r.event_type_match = i.event_type
               OR r.event_type_match = i.canonical_type)
        ORDER BY i.id, r.id
        RETURNING id, delivery_id, event_id, rule_id, url, endpoint
      ),
      matches AS (
        SELECT event_id, count(*) AS n, array_agg(id ORDER BY id) AS row_ids, array_agg(delivery_id::text ORDER BY id) AS uuids,
               array_agg(rule_id ORDER BY id) AS rules, array_agg(url ORDER BY id) AS urls,
               array_agg(endpoint ORDER BY id) AS endpoints
        FROM matched GROUP BY event_id
      )
      SELECT i.id, i.occurred_at, i.created_at,
             coalesce(m.n, 0) AS rule_matches, m.row_ids, m.uuids, m.rules, m.urls, m.endpoints
      FROM ins i LEFT JOIN matches m ON m.event_id = i.id
      ORDER BY i.id
      """;

  /**
   * What flushes share, once every earlier flush has ended: the keys' rows (each learns its previous
   * last event), the stats counters and, where %s is, a flush's Idempotency-Keys (IdempotencyKeys.CLAIMS_CTE).
   */
  private static final String SHARED = """
      WITH %s upserted AS (
        INSERT INTO keys AS k (partner_id, key_id, name, key_type, event_count, first_event_at, last_activity,
                               created_event_at, deleted_event_at, last_rotated, first_signed_at, last_signed_at,
                               first_used_at, last_used_at, last_event_id, last_commit_at)
        SELECT partner_id, key_id, name, key_type, events, first_at, last_at, created_at, deleted_at, rotated_at,
               first_signed_at, last_signed_at, first_used_at, last_used_at, last_id, statement_timestamp()
        FROM flush_keys ORDER BY partner_id, key_id
        ON CONFLICT (partner_id, key_id) DO UPDATE SET
          name = coalesce(excluded.name, k.name),
          key_type = coalesce(excluded.key_type, k.key_type),
          event_count = k.event_count + excluded.event_count,
          first_event_at = least(k.first_event_at, excluded.first_event_at),
          last_activity = greatest(k.last_activity, excluded.last_activity),
          created_event_at = greatest(k.created_event_at, excluded.created_event_at),
          deleted_event_at = greatest(k.deleted_event_at, excluded.deleted_event_at),
          last_rotated = greatest(k.last_rotated, excluded.last_rotated),
          first_signed_at = least(k.first_signed_at, excluded.first_signed_at),
          last_signed_at = greatest(k.last_signed_at, excluded.last_signed_at),
          first_used_at = least(k.first_used_at, excluded.first_used_at),
          last_used_at = greatest(k.last_used_at, excluded.last_used_at),
          last_event_id = greatest(k.last_event_id, excluded.last_event_id),
          prior_event_id = k.last_event_id,
          last_commit_at = excluded.last_commit_at
        RETURNING partner_id, key_id, prior_event_id, (xmax = 0) AS inserted
      ),
      per_scope AS (
        SELECT partner_id AS scope, sum(events)::bigint AS events, sum(nominal)::bigint AS nominal,
               sum(warning)::bigint AS warning, sum(critical)::bigint AS critical
        FROM flush_keys GROUP BY partner_id
        UNION ALL
        SELECT '*', sum(events)::bigint, sum(nominal)::bigint, sum(warning)::bigint, sum(critical)::bigint FROM flush_keys
      ),
      new_keys AS (
        SELECT partner_id AS scope, count(*) FILTER (WHERE inserted) AS n FROM upserted GROUP BY partner_id
        UNION ALL
        SELECT '*', count(*) FILTER (WHERE inserted) FROM upserted
      ),
      totals AS (
        INSERT INTO stats_totals AS t (scope, total_keys, total_events, nominal, warning, critical)
        SELECT s.scope, coalesce(n.n, 0), s.events, s.nominal, s.warning, s.critical
        FROM per_scope s LEFT JOIN new_keys n USING (scope) ORDER BY s.scope
        ON CONFLICT (scope) DO UPDATE SET
          total_keys = t.total_keys + excluded.total_keys, total_events = t.total_events + excluded.total_events,
          nominal = t.nominal + excluded.nominal, warning = t.warning + excluded.warning,
          critical = t.critical + excluded.critical
      ),
      arrivals AS (
        INSERT INTO stats_arrivals AS a (scope, minute, events)
        SELECT scope, date_trunc('minute', statement_timestamp()), events FROM per_scope ORDER BY scope
        ON CONFLICT (scope, minute) DO UPDATE SET events = a.events + excluded.events
      )
      SELECT partner_id, key_id, prior_event_id FROM upserted
      """;
  /** Requests without a key (the common case) run the statement as it always was: no extra work. */
  private static final String SHARE = SHARED.formatted("");
  private static final String SHARE_CLAIMING = SHARED.formatted(IdempotencyKeys.CLAIMS_CTE);

  private final Pool pool;
  private final String node;
  private final int leaseSeconds;
  /** Per writer connection: the connection, or its acquisition under way; null once it closed or failed. */
  private final List<Future<SqlConnection>> connections;
  /** Where the next flush goes. */
  private int next;
  /**
   * Completes once the last flush sent has drawn its ids (or failed). The next flush is sent only
   * then, so that this node's flushes draw their ids, and so commit, in the order they were sent, on
   * whichever connections they run: the verticle releases them in that order (FlushReleaseTest).
   */
  private Future<Void> lastDraw = Future.succeededFuture();

  /**
   * @param writers      connections flushes run on at once
   * @param node         the delivery lease's holder: the cluster member whose delivery actor sends the matches
   * @param leaseSeconds how long the matches stay this node's before anyone may claim them
   */
  EventWriter(Pool pool, int writers, String node, int leaseSeconds) {
    this.pool = pool;
    this.node = node;
    this.leaseSeconds = leaseSeconds;
    this.connections = new ArrayList<>(Collections.nCopies(writers, null));
  }

  /** A flush as committed: its events, in the order given, and its rule matches' outbox rows. */
  record Flushed(List<StoredEvent> stored, List<Matched> matched) {}

  /** An outbox row of a rule match, claimed by this node; {@code index}: its event's place in the flush. */
  record Matched(int index, long rowId, String deliveryId, long ruleId, String url, String endpoint) {}

  /**
   * The next writer connection, or a new one in its place when it is gone (Postgres restarted, or
   * never reached): one acquisition at a time per place, so that flushes sent meanwhile wait for it in
   * the order they were sent.
   */
  private Future<SqlConnection> connection() {
    int place = next;
    next = (next + 1) % connections.size();
    Future<SqlConnection> held = connections.get(place);
    if (held == null || held.failed()) {
      Future<SqlConnection> acquiring = pool.getConnection()
          .compose(conn -> conn.query(FLUSH_KEYS).execute().map(conn)
              .onFailure(e -> conn.close()));
      connections.set(place, acquiring);
      acquiring.onSuccess(conn -> conn.closeHandler(closed -> {
        if (connections.get(place) == acquiring) {
          connections.set(place, null);
        }
      }));
      held = acquiring;
    }
    return held;
  }

  /** Gives the connections back to the pool (the verticle stops). */
  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    for (int i = 0; i < connections.size(); i++) {
      Future<SqlConnection> held = connections.set(i, null);
      if (held != null) {
        closing.add(held.compose(SqlConnection::close).otherwiseEmpty());
      }
    }
    return Future.join(closing).mapEmpty();
  }

  /**
   * Commits the events, all or none, and returns them stored, in the order given. The transaction
   * goes out in one pipelined burst (BEGIN, ids, events, the wait, shared rows, COMMIT): one round
   * trip. If a statement fails, the ones after it fail too and Postgres turns the COMMIT into a
   * ROLLBACK; the next flush on the connection starts a transaction of its own.
   */
  Future<Flushed> append(List<NewEvent> events) {
    return append(events, List.of());
  }

  /**
   * The same, with the Idempotency-Keys of the flush's keyed requests committed in the same
   * transaction: a crash keeps both the events and their keys, or neither.
   */
  Future<Flushed> append(List<NewEvent> events, List<Claimed> claims) {
    Tuple columns = columns(events).addString(node).addInteger(leaseSeconds);
    Tuple shared = claims.isEmpty() ? Tuple.tuple() : claims(claims);
    Future<SqlConnection> connection = connection();
    Future<Void> mayDraw = lastDraw;
    Promise<Void> drawn = Promise.promise();
    lastDraw = drawn.future();
    return mayDraw.transform(previous -> connection).compose(conn -> {
      Future<RowSet<Row>> begin = conn.query("BEGIN").execute();
      Future<RowSet<Row>> ids = conn.preparedQuery(CLAIM_IDS).execute(Tuple.of(events.size()));
      ids.onComplete(done -> drawn.tryComplete());
      Future<RowSet<Row>> insert = conn.preparedQuery(INSERT_EVENTS).execute(columns);
      Future<RowSet<Row>> turn = conn.query(AWAIT_TURN).execute();
      Future<RowSet<Row>> share = conn.preparedQuery(claims.isEmpty() ? SHARE : SHARE_CLAIMING).execute(shared);
      Future<RowSet<Row>> commit = conn.query("COMMIT").execute();
      return Future.all(List.of(begin, ids, insert, turn, share, commit))
          .map(done -> flushed(events, insert.result(), share.result()));
    }).onComplete(done -> drawn.tryComplete());
  }

  /** A keyed request of a flush: its claim and where its events sit in the flush (0-based, count). */
  record Claimed(IdempotencyClaim claim, int first, int count) {}

  private static Tuple claims(List<Claimed> claims) {
    int n = claims.size();
    String[] scope = new String[n], key = new String[n], hash = new String[n];
    Integer[] status = new Integer[n], firstOrd = new Integer[n], lastOrd = new Integer[n];
    for (int i = 0; i < n; i++) {
      Claimed c = claims.get(i);
      scope[i] = c.claim().scope();
      key[i] = c.claim().key();
      hash[i] = c.claim().requestHash();
      status[i] = c.claim().status();
      firstOrd[i] = c.first() + 1;
      lastOrd[i] = c.first() + c.count();
    }
    return Tuple.tuple().addArrayOfString(scope).addArrayOfString(key).addArrayOfString(hash)
        .addArrayOfInteger(status).addArrayOfInteger(firstOrd).addArrayOfInteger(lastOrd);
  }

  private static Tuple columns(List<NewEvent> events) {
    int n = events.size();
    String[] partner = new String[n], key = new String[n], type = new String[n], canonical = new String[n],
        severity = new String[n], ip = new String[n], actor = new String[n], details = new String[n];
    Boolean[] derived = new Boolean[n];
    OffsetDateTime[] occurred = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      NewEvent e = events.get(i);
      partner[i] = e.partnerId();
      key[i] = e.keyId();
      type[i] = e.eventType();
      canonical[i] = e.canonicalType();
      severity[i] = e.severity();
      derived[i] = e.severityDerived();
      ip[i] = e.sourceIp();
      actor[i] = e.actor();
      details[i] = e.detailsText();
      occurred[i] = e.occurredAt() == null ? null : e.occurredAt().atOffset(ZoneOffset.UTC);
    }
    return Tuple.of(partner, key, type, canonical, severity, derived, ip, actor, details, occurred);
  }

  /**
   * Ids come back ascending, and were assigned in input order. An event's previous one is the key's
   * previous event in this flush, or else the one the key's row held before it (prior_event_id; 0 for
   * a key's first): found here, in one pass, rather than by a window over the flush that Postgres
   * would sort for.
   */
  private static Flushed flushed(List<NewEvent> events, RowSet<Row> rows, RowSet<Row> keys) {
    Map<String, Map<String, Long>> priorOfKey = new HashMap<>();
    for (Row key : keys) {
      Long prior = key.getLong("prior_event_id");
      priorOfKey.computeIfAbsent(key.getString("partner_id"), p -> new HashMap<>())
          .put(key.getString("key_id"), prior == null ? 0L : prior);
    }
    List<StoredEvent> out = new ArrayList<>(events.size());
    List<Matched> matched = new ArrayList<>(0);
    Map<String, Map<String, Long>> lastOfKey = new HashMap<>();
    int i = 0;
    for (Row row : rows) {
      int matches = row.getLong("rule_matches").intValue();
      if (matches > 0) {
        Long[] ids = row.getArrayOfLongs("row_ids"), rules = row.getArrayOfLongs("rules");
        String[] uuids = row.getArrayOfStrings("uuids"), urls = row.getArrayOfStrings("urls"),
            endpoints = row.getArrayOfStrings("endpoints");
        for (int m = 0; m < matches; m++) {
          matched.add(new Matched(i, ids[m], uuids[m], rules[m], urls[m], endpoints[m]));
        }
      }
      NewEvent event = events.get(i++);
      long id = row.getLong("id");
      Long earlier = lastOfKey.computeIfAbsent(event.partnerId(), p -> new HashMap<>()).put(event.keyId(), id);
      long previous = earlier != null ? earlier : priorOfKey.getOrDefault(event.partnerId(), Map.of())
          .getOrDefault(event.keyId(), 0L);
      out.add(new StoredEvent(id, event, null, row.getOffsetDateTime("occurred_at").toInstant(),
          row.getOffsetDateTime("created_at").toInstant(), previous, matches));
    }
    if (i != events.size()) {
      throw new IllegalStateException("stored " + i + " of " + events.size() + " events");
    }
    return new Flushed(out, matched);
  }
}
