package io.keypulse.partner;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The api_keys table: minting, listing, revoking, and the lookup behind every authenticated call. */
public final class ApiKeys {
  private static final String INSERT = """
      INSERT INTO api_keys (partner_id, name, prefix, key_hash, minted_by) VALUES ($1, $2, $3, $4, $5)
      RETURNING id, name, prefix, status, minted_by, created_at, last_used_at
      """;
  private static final String LIST = """
      SELECT id, name, prefix, status, minted_by, created_at, last_used_at FROM api_keys
      WHERE partner_id = $1 ORDER BY id
      """;
  private static final String OWNER = "SELECT partner_id FROM api_keys WHERE id = $1";
  private static final String LOCK_PARTNER = "SELECT id FROM partners WHERE id = $1 FOR UPDATE";
  private static final String REVOKE = """
      UPDATE api_keys SET status = 'revoked', revoked_at = now() WHERE id = $1 AND status = 'active'
      """;
  /**
   * What a presented key grants. A read only: a flood of unknown keys must cost no write (last use
   * is recorded in batches by {@link #touch}).
   */
  private static final String AUTHENTICATE = """
      SELECT k.id, k.partner_id, k.key_hash, k.status, p.status AS partner_status, p.rate_limit_per_min,
             p.partner_rate_limit_per_min
      FROM api_keys k JOIN partners p ON p.id = k.partner_id WHERE k.key_hash = $1
      """;
  private static final String CREDENTIAL_OF = """
      SELECT k.id, k.partner_id, k.key_hash, k.status, p.status AS partner_status, p.rate_limit_per_min,
             p.partner_rate_limit_per_min
      FROM api_keys k JOIN partners p ON p.id = k.partner_id WHERE k.id = $1
      """;
  private static final String HASHES_AFTER = "SELECT id, key_hash FROM api_keys WHERE id > $1 ORDER BY id";
  private static final String TOUCH = """
      UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1) AND status = 'active'
      """;
  /** The partner's row is locked so that two concurrent mints cannot both take the last free place. */
  private static final String KEY_ALLOWANCE = """
      SELECT p.max_active_keys, (SELECT count(*) FROM api_keys k WHERE k.partner_id = p.id AND k.status = 'active')
      FROM partners p WHERE p.id = $1 FOR UPDATE
      """;

  /** Outcome of a revocation request. */
  public enum Revocation { REVOKED, ALREADY_REVOKED, NOT_FOUND, LAST_ACTIVE_KEY }

  /** Minting refused: the partner already holds as many active keys as its plan allows. */
  public static final class TooManyKeys extends RuntimeException {
    private final int limit;

    TooManyKeys(int limit) {
      super("at most " + limit + " active API keys; revoke one first", null, false, false);
      this.limit = limit;
    }

    public int limit() {
      return limit;
    }
  }

  private final Pool pool;
  private final int defaultMaxActiveKeys;

  public ApiKeys(Pool pool, int defaultMaxActiveKeys) {
    this.pool = pool;
    this.defaultMaxActiveKeys = defaultMaxActiveKeys;
  }

  static Future<ApiKeyInfo> insert(SqlClient client, String partnerId, String name, String apiKey, String mintedBy) {
    Tuple row = Tuple.of(partnerId, name, Credentials.prefixOf(apiKey), Buffer.buffer(Credentials.hash(apiKey)), mintedBy);
    return client.preparedQuery(INSERT).execute(row).map(rows -> info(rows.iterator().next()));
  }

  /**
   * Mints a key for an existing partner; the caller shows it once and forgets it. Fails with
   * {@link TooManyKeys} when the partner's plan allows no more active keys, and with a foreign-key
   * violation when there is no such partner.
   */
  public Future<ApiKeyInfo> mint(String partnerId, String name, String apiKey, String mintedBy) {
    return pool.withTransaction(conn -> mint(conn, partnerId, name, apiKey, mintedBy));
  }

  /** In the caller's transaction (which records the request's Idempotency-Key with it). */
  public Future<ApiKeyInfo> mint(SqlConnection conn, String partnerId, String name, String apiKey, String mintedBy) {
    return conn.preparedQuery(KEY_ALLOWANCE).execute(Tuple.of(partnerId))
        .compose(rows -> {
          if (rows.size() == 1) {
            Row row = rows.iterator().next();
            int limit = row.getInteger(0) != null ? row.getInteger(0) : defaultMaxActiveKeys;
            if (row.getLong(1) >= limit) {
              return Future.failedFuture(new TooManyKeys(limit));
            }
          }
          return insert(conn, partnerId, name, apiKey, mintedBy);
        });
  }

  /** The hashes of the keys with an id above {@code afterId}, by id (every key, revoked ones too). */
  public Future<java.util.SortedMap<Long, byte[]>> hashesAfter(long afterId) {
    return pool.preparedQuery(HASHES_AFTER).execute(Tuple.of(afterId)).map(rows -> {
      java.util.SortedMap<Long, byte[]> hashes = new java.util.TreeMap<>();
      rows.forEach(row -> hashes.put(row.getLong(0), row.getBuffer(1).getBytes()));
      return hashes;
    });
  }

  /** Records that these keys were used just now (one statement for all the keys a node saw lately). */
  public Future<Void> touch(List<Long> keyIds) {
    return keyIds.isEmpty() ? Future.succeededFuture()
        : pool.preparedQuery(TOUCH).execute(Tuple.tuple().addArrayOfLong(keyIds.toArray(new Long[0]))).mapEmpty();
  }

  public Future<List<ApiKeyInfo>> list(String partnerId) {
    return pool.preparedQuery(LIST).execute(Tuple.of(partnerId)).map(rows -> {
      List<ApiKeyInfo> keys = new ArrayList<>();
      rows.forEach(row -> keys.add(info(row)));
      return keys;
    });
  }

  /**
   * Revokes one of the partner's keys. A partner may not revoke its last active key (it would lock
   * itself out); an operator may ({@code allowLast}).
   */
  public Future<Revocation> revoke(String partnerId, long keyId, boolean allowLast) {
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK_PARTNER).execute(Tuple.of(partnerId))
        .compose(locked -> conn.preparedQuery(LIST).execute(Tuple.of(partnerId)))
        .compose(rows -> {
          List<ApiKeyInfo> keys = new ArrayList<>();
          rows.forEach(row -> keys.add(info(row)));
          Optional<ApiKeyInfo> target = keys.stream().filter(k -> k.id() == keyId).findFirst();
          long active = keys.stream().filter(k -> k.status().equals("active")).count();
          if (target.isEmpty()) {
            return Future.succeededFuture(Revocation.NOT_FOUND);
          }
          if (!target.get().status().equals("active")) {
            return Future.succeededFuture(Revocation.ALREADY_REVOKED);
          }
          if (active == 1 && !allowLast) {
            return Future.succeededFuture(Revocation.LAST_ACTIVE_KEY);
          }
          return conn.preparedQuery(REVOKE).execute(Tuple.of(keyId)).map(done -> Revocation.REVOKED);
        }));
  }

  /** The partner a key belongs to, for operators who name a key by id alone. */
  public Future<Optional<String>> ownerOf(long keyId) {
    return pool.preparedQuery(OWNER).execute(Tuple.of(keyId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getString(0)));
  }

  /** What the key with this id grants (a session token names its key by id). */
  public Future<Optional<Credential>> credentialOf(long keyId) {
    return pool.preparedQuery(CREDENTIAL_OF).execute(Tuple.of(keyId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(credential(rows.iterator().next())));
  }

  /** Finds what a presented key grants; empty if no such key exists. */
  public Future<Optional<Credential>> authenticate(String apiKey) {
    byte[] hash = Credentials.hash(apiKey);
    return pool.preparedQuery(AUTHENTICATE).execute(Tuple.of(Buffer.buffer(hash))).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      // The index found the row by hash; confirm it in constant time all the same.
      if (!MessageDigest.isEqual(hash, row.getBuffer("key_hash").getBytes())) {
        return Optional.empty();
      }
      return Optional.of(credential(row));
    });
  }

  private static Credential credential(Row row) {
    return new Credential(row.getLong("id"), row.getString("partner_id"), row.getString("status"),
        row.getString("partner_status"), row.getInteger("rate_limit_per_min"),
        row.getInteger("partner_rate_limit_per_min"));
  }

  private static ApiKeyInfo info(Row row) {
    OffsetDateTime used = row.getOffsetDateTime("last_used_at");
    return new ApiKeyInfo(row.getLong("id"), row.getString("name"), row.getString("prefix"), row.getString("status"),
        row.getString("minted_by"), row.getOffsetDateTime("created_at").toInstant(),
        used == null ? null : used.toInstant());
  }
}
