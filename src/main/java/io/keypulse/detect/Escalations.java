package io.keypulse.detect;

import io.keypulse.bus.AlertRaised;
import io.keypulse.db.Weeks;
import io.keypulse.delivery.Payloads;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Raises a key's open alert in place when its finding escalates inside the suppression window: the
 * alert takes the new severity, description and evidence, counts one more repeat, and its webhook is
 * sent once more with the same alert id and "escalated_from". The webhooks already queued for the
 * alert keep the bytes they had (their payload is frozen first), so every attempt of one delivery
 * signs the same body. Only a warning becomes critical, once: detecting the same events again after a
 * crash escalates nothing twice.
 */
final class Escalations {
  private static final String OPEN = """
      SELECT id, partner_id, key_id, rule, kind, severity, description, evidence, event_id, triggered_at, created_at
      FROM alerts WHERE partner_id = $1 AND key_id = $2 AND rule = $3 AND id >= $4 ORDER BY id DESC LIMIT 1 FOR UPDATE
      """;
  /** Locked in id order first, as every multi-row change of deliveries is (see delivery.Outbox). */
  private static final String FREEZE = """
      WITH queued AS (
        SELECT id FROM deliveries WHERE alert_id = $1 AND payload IS NULL AND status = 'pending' AND id >= $3
        ORDER BY id FOR UPDATE
      )
      UPDATE deliveries d SET payload = $2 WHERE d.id = ANY(ARRAY(SELECT id FROM queued))
      """;
  private static final String RAISE = """
      UPDATE alerts SET escalated_from = severity, severity = $2, description = $3, evidence = $4,
             repeat_count = repeat_count + 1, last_repeat_at = greatest(last_repeat_at, $5), escalated_at = $5
      WHERE partner_id = $6 AND id = $1
      RETURNING id, partner_id, key_id, rule, kind, severity, description, evidence, event_id, triggered_at, created_at,
        escalated_from, repeat_count
      """;
  private static final String SEND = """
      INSERT INTO deliveries (partner_id, alert_id, event_id, event, url, payload)
      SELECT $1, $2, $3, $4, webhook_url, $5 FROM partners WHERE id = $1 AND webhook_url IS NOT NULL
      """;

  private Escalations() {}

  /** Escalates in the transaction of {@code conn}; the raised alerts, to publish once committed. */
  static Future<List<AlertRaised>> write(SqlConnection conn, List<Verdict> batch) {
    List<AlertRaised> raised = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (Verdict v : batch) {
      for (Finding f : v.escalations()) {
        chain = chain.compose(done -> escalate(conn, v, f)).map(alert -> {
          if (alert != null) {
            raised.add(alert);
          }
          return null;
        });
      }
    }
    return chain.map(raised);
  }

  private static Future<AlertRaised> escalate(SqlConnection conn, Verdict v, Finding f) {
    // An escalation follows its alert within the suppression window (a week at most): read those weeks only.
    long openFrom = Weeks.firstIdFrom(Instant.now().minus(Duration.ofDays(8)));
    return conn.preparedQuery(OPEN).execute(Tuple.of(v.partnerId(), v.keyId(), f.rule(), openFrom)).compose(rows -> {
      Row open = rows.size() == 0 ? null : rows.iterator().next();
      if (open == null || KeyDetector.rank(open.getString("severity")) >= KeyDetector.rank(f.severity())) {
        return Future.succeededFuture(null);
      }
      long id = open.getLong("id");
      // Its deliveries were written with it or after it: from its week on (and the one before, for a
      // transaction that began as the week turned).
      long deliveriesFrom = Weeks.base(Weeks.weekOf(id) - 1);
      return conn.preparedQuery(FREEZE).execute(Tuple.of(id, Payloads.alert(open, v.partnerId(), null), deliveriesFrom))
          .compose(frozen -> conn.preparedQuery(RAISE).execute(Tuple.of(id, f.severity(), f.description(),
              f.evidence(), v.triggeredAt().atOffset(ZoneOffset.UTC), v.partnerId())))
          .compose(updated -> {
            Row alert = updated.iterator().next();
            String from = open.getString("severity");
            return conn.preparedQuery(SEND).execute(Tuple.of(v.partnerId(), id, alert.getLong("event_id"),
                    alert.getString("kind"), Payloads.alert(alert, v.partnerId(), from)))
                .map(sent -> VerdictSql.raised(alert));
          });
    });
  }
}
