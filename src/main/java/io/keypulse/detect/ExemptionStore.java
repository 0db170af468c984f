package io.keypulse.detect;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The exemptions table. "Active" means not deleted and not expired; an expired one can still be
 * read by id (its match count stays useful), a deleted one cannot.
 */
public final class ExemptionStore {
  private static final String COLUMNS = "id, partner_id, rule, key_id, key_prefix, source_ip_cidr, actor, expires_at, "
      + "reason, matched, last_matched_at, created_at";
  private static final String IN_FORCE = "active AND (expires_at IS NULL OR expires_at > now())";
  private static final String ACTIVE = "SELECT " + COLUMNS + " FROM exemptions WHERE partner_id = $1 AND " + IN_FORCE
      + " ORDER BY id DESC";
  private static final String ONE = "SELECT " + COLUMNS + " FROM exemptions WHERE partner_id = $1 AND id = $2 AND active";
  /** Creations of one partner queue here, so that two at once cannot both pass the cap. */
  private static final String LOCK_PARTNER = "SELECT id FROM partners WHERE id = $1 FOR UPDATE";
  private static final String COUNT = "SELECT count(*) FROM exemptions WHERE partner_id = $1 AND " + IN_FORCE;
  private static final String CREATE = "INSERT INTO exemptions (partner_id, rule, key_id, key_prefix, source_ip_cidr, "
      + "actor, expires_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING " + COLUMNS;
  private static final String DEACTIVATE =
      "UPDATE exemptions SET active = false WHERE partner_id = $1 AND id = $2 AND active RETURNING id";

  private final Pool pool;

  public ExemptionStore(Pool pool) {
    this.pool = pool;
  }

  /** The partner's exemptions in force, newest first: what the shards match findings against. */
  public Future<List<Exemption>> active(String partnerId) {
    return pool.preparedQuery(ACTIVE).execute(Tuple.of(partnerId)).map(ExemptionStore::all);
  }

  /** Empty when the partner has no such exemption, or deleted it. */
  public Future<Optional<Exemption>> get(String partnerId, long id) {
    return pool.preparedQuery(ONE).execute(Tuple.of(partnerId, id))
        .map(rows -> all(rows).stream().findFirst());
  }

  /** Stores a draft (its id, counts and dates are ignored); empty when the partner already has maxActive. */
  public Future<Optional<Exemption>> create(Exemption draft, int maxActive) {
    return pool.withTransaction(conn -> create(conn, draft, maxActive));
  }

  /** In the caller's transaction (which records the request's Idempotency-Key with it). */
  public Future<Optional<Exemption>> create(SqlConnection conn, Exemption draft, int maxActive) {
    String partnerId = draft.partnerId();
    return conn.preparedQuery(LOCK_PARTNER).execute(Tuple.of(partnerId))
        .compose(locked -> conn.preparedQuery(COUNT).execute(Tuple.of(partnerId)))
        .compose(count -> count.iterator().next().getLong(0) >= maxActive
            ? Future.succeededFuture(Optional.<Exemption>empty())
            : conn.preparedQuery(CREATE).execute(row(draft)).map(rows -> Optional.of(exemption(rows.iterator().next()))));
  }

  /** True when it was active and is not any more; false when the partner has no such exemption (left). */
  public Future<Boolean> deactivate(String partnerId, long id) {
    return pool.preparedQuery(DEACTIVATE).execute(Tuple.of(partnerId, id)).map(rows -> rows.size() == 1);
  }

  private static Tuple row(Exemption e) {
    return Tuple.of(e.partnerId(), e.rule(), e.keyId(), e.keyPrefix(),
            e.sourceIpCidr() == null ? null : e.sourceIpCidr().toString(), e.actor())
        .addOffsetDateTime(e.expiresAt() == null ? null : e.expiresAt().atOffset(ZoneOffset.UTC))
        .addString(e.reason());
  }

  private static List<Exemption> all(RowSet<Row> rows) {
    List<Exemption> out = new ArrayList<>(rows.size());
    rows.forEach(row -> out.add(exemption(row)));
    return out;
  }

  private static Exemption exemption(Row r) {
    String cidr = r.getString("source_ip_cidr");
    return new Exemption(r.getLong("id"), r.getString("partner_id"), r.getString("rule"), r.getString("key_id"),
        r.getString("key_prefix"), cidr == null ? null : IpRange.parse(cidr), r.getString("actor"),
        instant(r, "expires_at"), r.getString("reason"), r.getLong("matched"), instant(r, "last_matched_at"),
        instant(r, "created_at"));
  }

  private static Instant instant(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }
}
