package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Credential;
import io.keypulse.partner.Credentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What presented API keys grant, per node, so that most requests cost no database round trip.
 * <ul>
 *   <li>Known keys live auth.cache_seconds; revocations, suspensions and plan changes evict them at
 *       once on every node (see {@link io.keypulse.bus.Addresses#CREDENTIALS_CHANGED}).</li>
 *   <li>Unknown keys are remembered as unknown for auth.negative_cache_seconds: repeating a wrong
 *       key costs a map lookup.</li>
 *   <li>Look-ups that do reach Postgres are reads, at most auth.max_concurrent_lookups at once per
 *       node: a flood of random keys gets 503 rather than taking the query pool from partners.
 *       While the look-ups are saturated a known key whose entry just expired is still honoured
 *       (revocations are pushed, not polled, so it cannot outlive one).</li>
 *   <li>Last use is recorded in batches ({@link #flushUsed}), not by a write per look-up.</li>
 * </ul>
 * Keyed by hash: no plaintext kept.
 */
public final class CredentialCache {
  private static final int MAX_ENTRIES = 100_000;
  /** How many cache periods an expired entry may still serve while look-ups are saturated. */
  private static final int STALE_PERIODS = 10;

  private record Entry(Credential credential, long freshUntil) {}

  private final ConcurrentHashMap<String, Entry> known = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> unknown = new ConcurrentHashMap<>();
  private final Set<Long> used = ConcurrentHashMap.newKeySet();
  private final AtomicInteger lookups = new AtomicInteger();
  private final ConcurrentHashMap<String, Future<Optional<Credential>>> pending = new ConcurrentHashMap<>();
  private final ApiKeys apiKeys;
  private final long ttlMillis;
  private final long negativeTtlMillis;
  private final int maxLookups;
  private final Clock clock;

  private final Counter found;
  private final Counter notFound;
  private final Counter saturated;

  private final KeyDirectory directory;
  private final Counter filtered;

  public CredentialCache(Vertx vertx, ApiKeys apiKeys, int ttlSeconds, int negativeTtlSeconds, int maxLookups,
                         Clock clock, MeterRegistry metrics) {
    this.apiKeys = apiKeys;
    this.directory = new KeyDirectory(apiKeys, vertx);
    this.filtered = Counter.builder("keypulse.auth.unknown_keys")
        .description("Keys refused as unknown without a look-up of their own (not in the key directory)")
        .register(metrics);
    this.found = lookups(metrics, "found");
    this.notFound = lookups(metrics, "unknown");
    this.saturated = lookups(metrics, "saturated");
    this.ttlMillis = ttlSeconds * 1000L;
    this.negativeTtlMillis = negativeTtlSeconds * 1000L;
    this.maxLookups = maxLookups;
    this.clock = clock;
  }

  private static Counter lookups(MeterRegistry metrics, String outcome) {
    return Counter.builder("keypulse.auth.lookups").tag("outcome", outcome)
        .description("Credential look-ups in Postgres (saturated: refused with 503, none free)").register(metrics);
  }

  /** What a presented key grants if this node knows it already (no look-up, no budget spent). */
  Optional<Credential> cached(String apiKey) {
    Entry hit = known.get("h:" + HexFormat.of().formatHex(Credentials.hash(apiKey)));
    if (hit == null || hit.freshUntil() <= clock.millis()) {
      return Optional.empty();
    }
    used.add(hit.credential().keyId());
    return Optional.of(hit.credential());
  }

  /**
   * What a presented key grants; empty if no such key exists. A key the key directory has never
   * heard of is refused without a look-up of its own (see {@link KeyDirectory}).
   */
  Future<Optional<Credential>> lookup(String apiKey) {
    byte[] hash = Credentials.hash(apiKey);
    String id = "h:" + HexFormat.of().formatHex(hash);
    Entry hit = known.get(id);
    if (hit != null && hit.freshUntil() > clock.millis()) {
      return found(hit.credential());
    }
    return directory.mayExist(hash).recover(directoryDown -> Future.succeededFuture(true)).compose(mayExist -> {
      if (!mayExist) {
        filtered.increment();
        return Future.succeededFuture(Optional.<Credential>empty());
      }
      return lookup(id, () -> apiKeys.authenticate(apiKey));
    });
  }

  /** What the key behind a session token grants now (revoked keys and suspended partners included). */
  Future<Optional<Credential>> byKeyId(long keyId) {
    return lookup("id:" + keyId, () -> apiKeys.credentialOf(keyId));
  }

  private Future<Optional<Credential>> lookup(String id, Supplier<Future<Optional<Credential>>> fromDatabase) {
    long now = clock.millis();
    Entry hit = known.get(id);
    if (hit != null && hit.freshUntil() > now) {
      return found(hit.credential());
    }
    Long unknownUntil = unknown.get(id);
    if (unknownUntil != null && unknownUntil > now) {
      return Future.succeededFuture(Optional.empty());
    }
    // Concurrent requests with the same key (a partner's first burst) share one look-up.
    Future<Optional<Credential>> shared = pending.get(id);
    if (shared != null) {
      return onCallersContext(shared);
    }
    if (lookups.incrementAndGet() > maxLookups) {
      lookups.decrementAndGet();
      if (hit != null && hit.freshUntil() + STALE_PERIODS * ttlMillis > now) {
        return found(hit.credential());
      }
      saturated.increment();
      return Future.failedFuture(new HttpProblem(503, "too many credential checks in progress; retry shortly",
          Map.of("Retry-After", "1")));
    }
    Promise<Optional<Credential>> mine = Promise.promise();
    shared = pending.putIfAbsent(id, mine.future());
    if (shared != null) {
      lookups.decrementAndGet();
      return onCallersContext(shared);
    }
    read(id, fromDatabase).onComplete(done -> {
      pending.remove(id);
      lookups.decrementAndGet();
      mine.handle(done);
    });
    return onCallersContext(mine.future());
  }

  /**
   * A future shared between requests completes on whichever thread finished it: each caller
   * continues on its own event loop (its routing, and what its verticle confines, stay there).
   */
  static <T> Future<T> onCallersContext(Future<T> shared) {
    Context context = Vertx.currentContext();
    if (context == null) {
      return shared;
    }
    Promise<T> here = Promise.promise();
    shared.onComplete(done -> context.runOnContext(v -> here.handle(done)));
    return here.future();
  }

  private Future<Optional<Credential>> read(String id, Supplier<Future<Optional<Credential>>> fromDatabase) {
    return fromDatabase.get().compose(result -> {
      long at = clock.millis();
      if (result.isEmpty()) {
        notFound.increment();
        bounded(unknown, () -> unknown.values().removeIf(until -> until <= at));
        unknown.put(id, at + negativeTtlMillis);
        return Future.succeededFuture(result);
      }
      found.increment();
      bounded(known, () -> known.values().removeIf(e -> e.freshUntil() <= at));
      known.put(id, new Entry(result.get(), at + ttlMillis));
      unknown.remove(id);
      // A known key's first use in a cache period is written at once (a key's list shows it used);
      // later uses in batches. Unknown keys never cause a write.
      return apiKeys.touch(List.of(result.get().keyId())).map(result);
    });
  }

  private Future<Optional<Credential>> found(Credential credential) {
    used.add(credential.keyId());
    return Future.succeededFuture(Optional.of(credential));
  }

  /** Keeps a cache under MAX_ENTRIES: first drop what expired, else start over (a flood of fresh entries). */
  private static void bounded(Map<String, ?> map, Runnable dropExpired) {
    if (map.size() >= MAX_ENTRIES) {
      dropExpired.run();
      if (map.size() >= MAX_ENTRIES) {
        map.clear();
      }
    }
  }

  /** Writes the last use of the keys seen since the previous flush, in one statement. */
  public Future<Void> flushUsed() {
    List<Long> ids = new ArrayList<>(used);
    used.removeAll(ids);
    return apiKeys.touch(ids);
  }

  /** A partner's credentials changed: forget them here at once, and tell every other node. */
  public void announceChange(Vertx vertx, String partnerId) {
    evictPartner(partnerId);
    vertx.eventBus().publish(Addresses.CREDENTIALS_CHANGED, new CredentialsChanged(partnerId));
  }

  /** Forgets every key of the partner (revocation, suspension, plan change). */
  public void evictPartner(String partnerId) {
    known.values().removeIf(e -> e.credential().partnerId().equals(partnerId));
  }
}
