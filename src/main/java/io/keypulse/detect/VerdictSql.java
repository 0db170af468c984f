package io.keypulse.detect;

import io.keypulse.bus.AlertRaised;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The statements a shard's verdict batch commits with, and their parameters: scores (and derived
 * severities with their counters), new alerts with their webhooks, repeat counts, rotation marks,
 * state checkpoints.
 */
final class VerdictSql {
  private VerdictSql() {}

  static final String LOCK = "SELECT pg_advisory_xact_lock(7317001)";
  static final String SCORES = """
      WITH v AS (SELECT * FROM unnest($1::bigint[], $2::real[], $3::text[], $4::text[]) AS v(id, score, derived, p)),
      upd AS (
        UPDATE events e SET score = v.score,
               severity = CASE WHEN e.severity_derived AND v.derived IS NOT NULL THEN v.derived ELSE e.severity END
        FROM v WHERE e.partner_id = v.p AND e.id = v.id AND e.id BETWEEN $5 AND $6 AND e.score IS NULL
        RETURNING e.partner_id, e.severity, e.severity_derived
      ),
      raised AS (
        SELECT partner_id AS scope, severity FROM upd WHERE severity_derived AND severity <> 'nominal'
        UNION ALL SELECT '*', severity FROM upd WHERE severity_derived AND severity <> 'nominal'
      ),
      per_scope AS (
        SELECT scope, count(*) FILTER (WHERE severity = 'warning') AS w, count(*) FILTER (WHERE severity = 'critical') AS c
        FROM raised GROUP BY scope
      )
      UPDATE stats_totals t SET nominal = t.nominal - s.w - s.c, warning = t.warning + s.w, critical = t.critical + s.c
      FROM per_scope s WHERE t.scope = s.scope
      """;
  /**
   * New alerts, and (same transaction) their webhook to the partner when it has one. An event raises
   * a rule's alert once, however often it is detected again (a shard's replay after a move): the
   * pair is skipped when it exists, which is safe because these inserts hold the cluster's write lock
   * (VerdictWriter). The existing alert is looked for from the event's week on, since an alert is
   * written after its event (alerts are partitioned by week, see V15).
   */
  static final String ALERTS = """
      WITH raised AS (
        INSERT INTO alerts (partner_id, key_id, rule, kind, severity, description, evidence, event_id, triggered_at)
        SELECT n.p, n.k, n.r, n.kind, n.s, n.d, n.e::json, n.ev, n.t
        FROM (SELECT DISTINCT ON (a.p, a.r, coalesce(a.ev, -a.ord)) a.*
              FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                          $8::bigint[], $9::timestamptz[]) WITH ORDINALITY AS a(p, k, r, kind, s, d, e, ev, t, ord)
              ORDER BY a.p, a.r, coalesce(a.ev, -a.ord), a.ord) n
        WHERE n.ev IS NULL OR NOT EXISTS (
          SELECT 1 FROM alerts x WHERE x.partner_id = n.p AND x.event_id = n.ev AND x.rule = n.r
            AND x.id >= (n.ev >> 36) << 36)
        ORDER BY n.ord
        RETURNING id, partner_id, key_id, rule, kind, severity, description, evidence, event_id, triggered_at, created_at,
          escalated_from, repeat_count
      ),
      outbox AS (
        INSERT INTO deliveries (partner_id, alert_id, event_id, event, url)
        SELECT r.partner_id, r.id, r.event_id, r.kind, p.webhook_url
        FROM raised r JOIN partners p ON p.id = r.partner_id WHERE p.webhook_url IS NOT NULL
        ORDER BY r.id
        RETURNING alert_id
      )
      SELECT r.*, (SELECT count(*) FROM outbox) AS webhooks FROM raised r
      """;
  static final String REPEAT = """
      UPDATE alerts SET repeat_count = repeat_count + 1, last_repeat_at = greatest(last_repeat_at, $4)
      WHERE partner_id = $1 AND id >= $5
        AND id = (SELECT id FROM alerts WHERE partner_id = $1 AND key_id = $2 AND rule = $3 AND id >= $5
                  ORDER BY id DESC LIMIT 1)
      """;
  /**
   * A repeat of a partner-level finding counts on the partner's latest alert of that rule: the alert
   * carries the key whose event first tripped it, and the repeats come from other keys' events.
   */
  static final String PARTNER_REPEAT = """
      UPDATE alerts SET repeat_count = repeat_count + 1, last_repeat_at = greatest(last_repeat_at, $3)
      WHERE partner_id = $1 AND id >= $4
        AND id = (SELECT id FROM alerts WHERE partner_id = $1 AND rule = $2 AND id >= $4 ORDER BY id DESC LIMIT 1)
      """;
  /**
   * A repeat counts on an alert at most this old (by id, so only these weeks are read): findings are
   * suppressed as repeats for at most a week (policy suppression_minutes), so a repeat's alert is newer.
   */
  private static final java.util.function.Supplier<Long> REPEATS_FROM =
      () -> io.keypulse.db.Weeks.firstIdFrom(java.time.Instant.now().minus(java.time.Duration.ofDays(8)));

  /** Rules judged per partner, not per key. */
  private static final Set<String> PARTNER_RULES = Set.of(ProvisioningSpike.RULE);
  static final String ROTATION_ALERTED = """
      UPDATE keys SET rotation_alerted_at = greatest(rotation_alerted_at, v.at)
      FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS v(p, k, at)
      WHERE keys.partner_id = v.p AND keys.key_id = v.k
      """;
  static final String CHECKPOINTS = """
      INSERT INTO detector_state (owner, last_event_id, state, updated_at)
      SELECT c.o, c.id, decode(c.s, 'base64'), now() FROM unnest($1::text[], $2::bigint[], $3::text[]) AS c(o, id, s)
      ON CONFLICT (owner) DO UPDATE SET last_event_id = excluded.last_event_id, state = excluded.state,
        updated_at = now()
      WHERE detector_state.last_event_id <= excluded.last_event_id
      """;

  /** Each exception that muted findings counts them, and when it last did (event time). */
  static final String MUTED = """
      UPDATE exemptions x SET matched = x.matched + m.n, last_matched_at = greatest(x.last_matched_at, m.at)
      FROM (SELECT id, count(*) AS n, max(at) AS at FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at)
            GROUP BY id) m
      WHERE x.id = m.id
      """;

  static Tuple muted(List<Verdict> batch) {
    List<Long> ids = new ArrayList<>();
    List<OffsetDateTime> at = new ArrayList<>();
    for (Verdict v : batch) {
      for (Long id : v.mutedBy()) {
        ids.add(id);
        at.add(v.triggeredAt().atOffset(ZoneOffset.UTC));
      }
    }
    return ids.isEmpty() ? null
        : Tuple.tuple().addArrayOfLong(ids.toArray(Long[]::new)).addArrayOfOffsetDateTime(at.toArray(OffsetDateTime[]::new));
  }

  static Tuple scores(List<Verdict> batch) {
    List<Verdict> scored = batch.stream().filter(v -> v.eventId() != null).toList();
    Long[] ids = new Long[scored.size()];
    Float[] scores = new Float[scored.size()];
    String[] derived = new String[scored.size()];
    String[] partners = new String[scored.size()];
    long lowest = Long.MAX_VALUE;
    long highest = Long.MIN_VALUE;
    for (int i = 0; i < scored.size(); i++) {
      ids[i] = scored.get(i).eventId();
      scores[i] = (float) scored.get(i).score();
      derived[i] = scored.get(i).derivedSeverity();
      partners[i] = scored.get(i).partnerId();
      lowest = Math.min(lowest, ids[i]);
      highest = Math.max(highest, ids[i]);
    }
    // The id range lets Postgres read only the weeks these events are in (partitions by id, V15).
    return Tuple.of(ids, scores, derived, partners, scored.isEmpty() ? 0L : lowest, scored.isEmpty() ? 0L : highest);
  }

  static Tuple alerts(List<Verdict> batch) {
    List<String> p = new ArrayList<>(), k = new ArrayList<>(), r = new ArrayList<>(), kind = new ArrayList<>(),
        s = new ArrayList<>(), d = new ArrayList<>(), e = new ArrayList<>();
    List<Long> ev = new ArrayList<>();
    List<OffsetDateTime> t = new ArrayList<>();
    for (Verdict v : batch) {
      for (Finding f : v.alerts()) {
        p.add(v.partnerId());
        k.add(v.keyId());
        r.add(f.rule());
        kind.add(f.kind());
        s.add(f.severity());
        d.add(f.description());
        e.add(f.evidence().encode());
        ev.add(v.eventId());
        t.add(v.triggeredAt().atOffset(ZoneOffset.UTC));
      }
    }
    return Tuple.of(p.toArray(String[]::new), k.toArray(String[]::new), r.toArray(String[]::new),
        kind.toArray(String[]::new), s.toArray(String[]::new), d.toArray(String[]::new), e.toArray(String[]::new),
        ev.toArray(Long[]::new), t.toArray(OffsetDateTime[]::new));
  }

  /** Parameters of REPEAT: the repeats of key-level rules. */
  static List<Tuple> repeats(List<Verdict> batch) {
    List<Tuple> out = new ArrayList<>();
    for (Verdict v : batch) {
      for (Finding f : v.repeats()) {
        if (!PARTNER_RULES.contains(f.rule())) {
          out.add(Tuple.of(v.partnerId(), v.keyId(), f.rule(), v.triggeredAt().atOffset(ZoneOffset.UTC),
              REPEATS_FROM.get()));
        }
      }
    }
    return out;
  }

  /** Parameters of PARTNER_REPEAT: the repeats of partner-level rules. */
  static List<Tuple> partnerRepeats(List<Verdict> batch) {
    List<Tuple> out = new ArrayList<>();
    for (Verdict v : batch) {
      for (Finding f : v.repeats()) {
        if (PARTNER_RULES.contains(f.rule())) {
          out.add(Tuple.of(v.partnerId(), f.rule(), v.triggeredAt().atOffset(ZoneOffset.UTC), REPEATS_FROM.get()));
        }
      }
    }
    return out;
  }

  static Tuple rotations(List<Verdict> batch) {
    List<Verdict> rotated = batch.stream()
        .filter(v -> v.alerts().stream().anyMatch(f -> RotationOverdue.RULE.equals(f.rule()))).toList();
    if (rotated.isEmpty()) {
      return null;
    }
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    return Tuple.of(rotated.stream().map(Verdict::partnerId).toArray(String[]::new),
        rotated.stream().map(Verdict::keyId).toArray(String[]::new),
        rotated.stream().map(v -> now).toArray(OffsetDateTime[]::new));
  }

  static Tuple checkpoints(List<VerdictWriter.Checkpoint> batch) {
    Base64.Encoder base64 = Base64.getEncoder();
    return Tuple.of(batch.stream().map(VerdictWriter.Checkpoint::owner).toArray(String[]::new),
        batch.stream().map(VerdictWriter.Checkpoint::lastEventId).toArray(Long[]::new),
        batch.stream().map(c -> base64.encodeToString(c.state())).toArray(String[]::new));
  }

  static int webhooks(RowSet<Row> rows) {
    return rows.size() == 0 ? 0 : rows.iterator().next().getLong("webhooks").intValue();
  }

  static List<AlertRaised> raised(RowSet<Row> rows) {
    List<AlertRaised> out = new ArrayList<>();
    for (Row r : rows) {
      out.add(raised(r));
    }
    return out;
  }

  static AlertRaised raised(Row r) {
    return new AlertRaised(r.getLong("id"), r.getString("partner_id"), r.getString("key_id"), r.getString("rule"),
        r.getString("kind"), r.getString("severity"), r.getString("description"), r.getJsonObject("evidence"),
        r.getLong("event_id"), r.getOffsetDateTime("triggered_at").toInstant(),
        r.getOffsetDateTime("created_at").toInstant(), r.getString("escalated_from"), r.getInteger("repeat_count"));
  }
}
