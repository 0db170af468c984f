package io.keypulse.rules;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules table. Matching needs no cache: the event store joins each flush's events with the
 * active rules inside the flush's own transaction (see EventWriter), so a match is committed with
 * its event, a rule fires from the first flush after its creation commits, and never after its
 * deactivation commits, on every node.
 */
public final class RuleStore {
  private static final String COLUMNS = "id, partner_id, name, event_type_match, webhook_url, severity, is_active";
  private static final String CREATE = "INSERT INTO rules (partner_id, name, event_type_match, webhook_url, severity) "
      + "VALUES ($1, $2, $3, $4, $5) RETURNING " + COLUMNS;
  private static final String LIST = "SELECT " + COLUMNS + " FROM rules WHERE partner_id = $1 AND (is_active OR $2) "
      + "ORDER BY id";
  private static final String DEACTIVATE = "UPDATE rules SET is_active = false, deactivated_at = now() "
      + "WHERE partner_id = $1 AND id = $2 AND is_active RETURNING id";
  private static final String EXISTS = "SELECT 1 FROM rules WHERE partner_id = $1 AND id = $2";

  private final Pool pool;

  public RuleStore(Pool pool) {
    this.pool = pool;
  }

  /** In the caller's transaction (which records the request's Idempotency-Key with it). */
  public Future<Rule> create(SqlClient client, String partnerId, String name, String eventTypeMatch, String webhookUrl,
                             String severity) {
    return client.preparedQuery(CREATE).execute(Tuple.of(partnerId, name, eventTypeMatch, webhookUrl, severity))
        .map(rows -> rule(rows.iterator().next()));
  }

  public Future<List<Rule>> list(String partnerId, boolean includeInactive) {
    return pool.preparedQuery(LIST).execute(Tuple.of(partnerId, includeInactive)).map(rows -> {
      List<Rule> out = new ArrayList<>();
      rows.forEach(row -> out.add(rule(row)));
      return out;
    });
  }

  /** True when the rule was active and is not any more; false if it does not exist for this partner. */
  public Future<Boolean> deactivate(String partnerId, long id) {
    return pool.preparedQuery(DEACTIVATE).execute(Tuple.of(partnerId, id)).compose(rows -> rows.size() == 1
        ? Future.succeededFuture(true)
        : pool.preparedQuery(EXISTS).execute(Tuple.of(partnerId, id)).map(found -> found.size() == 1));
  }

  private static Rule rule(Row r) {
    return new Rule(r.getLong("id"), r.getString("partner_id"), r.getString("name"), r.getString("event_type_match"),
        r.getString("webhook_url"), r.getString("severity"), r.getBoolean("is_active"));
  }
}
