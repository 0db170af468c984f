package io.keypulse.idempotency;

import io.keypulse.bus.IdempotencyClaim;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Optional;

/**
 * The idempotency_keys table: a creating request's key, the hash of its request and its answer.
 * A row is written in the transaction of what the request created (here for most routes, in the
 * group commit's statement for an ingest: {@link #CLAIMS_CTE}), so a crash never keeps one without
 * the other. Rows older than {@link #TTL} no longer count and are swept.
 */
public final class IdempotencyKeys {
  public static final String TTL = "24 hours";
  /** What a concurrent insert of the same key fails on (another node had it in flight). */
  public static final String PRIMARY_KEY = "idempotency_keys_pkey";

  private static final String FIND = """
      SELECT request_hash, status, response, event_ids, created_at <= now() - interval '%s' AS expired
      FROM idempotency_keys WHERE scope = $1 AND idem_key = $2
      """.formatted(TTL);
  private static final String FORGET_EXPIRED = """
      DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND created_at <= now() - interval '%s'
      """.formatted(TTL);
  private static final String RECORD = """
      INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, response) VALUES ($1, $2, $3, $4, $5)
      """;
  private static final String ANSWERED = """
      UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND idem_key = $2 AND response IS NULL
      """;
  private static final String PURGE = """
      DELETE FROM idempotency_keys WHERE (scope, idem_key) IN (
        SELECT scope, idem_key FROM idempotency_keys WHERE created_at <= now() - interval '%s' LIMIT $1)
      """.formatted(TTL);

  /**
   * Part of the group commit's statement for what flushes share (EventWriter): one row per keyed
   * request of the flush, with the ids of its events (the flush's ordinals first_ord..last_ord,
   * 1-based: a flush's ids are one block in input order, starting at keypulse.first_event_id, V18).
   * Its parameters are the statement's only ones: scope, key, hash, status, first_ord, last_ord.
   */
  public static final String CLAIMS_CTE = """
      claimed AS (
        INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, event_ids)
        SELECT c.scope, c.idem_key, c.request_hash, c.status,
               ARRAY(SELECT current_setting('keypulse.first_event_id')::bigint + g - 1
                     FROM generate_series(c.first_ord, c.last_ord) AS g ORDER BY g)
        FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[])
             AS c(scope, idem_key, request_hash, status, first_ord, last_ord)
      ),
      """;

  /** A key as recorded. {@code response} is sealed, and null for an ingest whose answer was lost. */
  public record Recorded(String requestHash, int status, byte[] response, long[] eventIds, boolean expired) {}

  private final Pool pool;

  public IdempotencyKeys(Pool pool) {
    this.pool = pool;
  }

  public Future<Optional<Recorded>> find(String scope, String key) {
    return pool.preparedQuery(FIND).execute(Tuple.of(scope, key)).map(rows -> rows.size() == 0
        ? Optional.empty() : Optional.of(recorded(rows.iterator().next())));
  }

  /** Drops the key if it expired (the sweep may not have come by yet), so that it can be used anew. */
  public Future<Void> forgetExpired(String scope, String key) {
    return pool.preparedQuery(FORGET_EXPIRED).execute(Tuple.of(scope, key)).mapEmpty();
  }

  /** Records a key and its answer; {@code client} is the connection of the transaction that created. */
  public static Future<Void> record(SqlClient client, IdempotencyClaim claim, byte[] sealedResponse) {
    return client.preparedQuery(RECORD).execute(Tuple.of(claim.scope(), claim.key(), claim.requestHash(),
        claim.status(), Buffer.buffer(sealedResponse))).mapEmpty();
  }

  /** An ingest's answer, once known (its key committed with its events, before detection answered). */
  public Future<Void> answered(IdempotencyClaim claim, byte[] sealedResponse) {
    return pool.preparedQuery(ANSWERED).execute(Tuple.of(claim.scope(), claim.key(), Buffer.buffer(sealedResponse)))
        .mapEmpty();
  }

  /** Deletes up to {@code limit} expired keys; returns how many. */
  public Future<Integer> purge(int limit) {
    return pool.preparedQuery(PURGE).execute(Tuple.of(limit)).map(rows -> rows.rowCount());
  }

  /** True when a failure is this key's insert meeting the same key, committed meanwhile by another node. */
  public static boolean taken(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof PgException pg && "23505".equals(pg.getSqlState()) && PRIMARY_KEY.equals(pg.getConstraint())) {
        return true;
      }
    }
    return false;
  }

  private static Recorded recorded(Row row) {
    Buffer response = row.getBuffer("response");
    Long[] ids = row.getArrayOfLongs("event_ids");
    long[] eventIds = ids == null ? null : java.util.Arrays.stream(ids).mapToLong(Long::longValue).toArray();
    return new Recorded(row.getString("request_hash"), row.getInteger("status"),
        response == null ? null : response.getBytes(), eventIds, row.getBoolean("expired"));
  }
}
