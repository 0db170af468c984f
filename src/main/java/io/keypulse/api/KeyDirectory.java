package io.keypulse.api;

import io.keypulse.partner.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every API key that exists, as the first 8 bytes of its hash, so that a key that does not exist
 * costs no look-up of its own: a flood of random keys cannot reach Postgres one key at a time.
 * Keys are only ever added (a revoked key stays in the table), so the directory is kept by reading
 * the rows after the highest id it holds.
 *
 * <p>A key missing here may have been minted a moment ago on another node. So a miss is decided
 * only after a read of the newer rows that <em>started after the miss arrived</em>: a key whose
 * mint was acknowledged before it was presented is always found. Misses arriving together share
 * one read, and reads start at most every {@link #MIN_GAP_MILLIS}: a flood of misses costs Postgres
 * a few small queries a second, whatever its rate.
 */
final class KeyDirectory {
  private static final long MIN_GAP_MILLIS = 100;

  private final Set<Long> prefixes = ConcurrentHashMap.newKeySet();
  private final ApiKeys apiKeys;
  private final Vertx vertx;
  private long highestId;
  private long lastStart = -MIN_GAP_MILLIS;
  /** The next read, not started yet, that waiting misses attach to; null if none is due. */
  private Promise<Void> next;

  KeyDirectory(ApiKeys apiKeys, Vertx vertx) {
    this.apiKeys = apiKeys;
    this.vertx = vertx;
  }

  static long prefix(byte[] hash) {
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }

  /** Whether a key with this hash may exist: false means it did not exist a moment ago. */
  Future<Boolean> mayExist(byte[] hash) {
    long prefix = prefix(hash);
    if (prefixes.contains(prefix)) {
      return Future.succeededFuture(true);
    }
    return CredentialCache.onCallersContext(nextRead()).map(done -> prefixes.contains(prefix));
  }

  private synchronized Future<Void> nextRead() {
    if (next == null) {
      next = Promise.promise();
      long wait = lastStart + MIN_GAP_MILLIS - System.currentTimeMillis();
      if (wait > 0) {
        vertx.setTimer(wait, id -> read());
      } else {
        vertx.runOnContext(v -> read());
      }
    }
    return next.future();
  }

  private void read() {
    Promise<Void> done;
    long after;
    synchronized (this) {
      done = next;
      next = null;
      lastStart = System.currentTimeMillis();
      after = highestId;
    }
    apiKeys.hashesAfter(after).onComplete(rows -> {
      if (rows.succeeded()) {
        synchronized (this) {
          rows.result().forEach((id, hash) -> {
            prefixes.add(prefix(hash));
            highestId = Math.max(highestId, id);
          });
        }
        done.complete();
      } else {
        done.fail(rows.cause());
      }
    });
  }
}
