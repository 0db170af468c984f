package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Credential;
import io.keypulse.partner.Credentials;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verified API keys per node, so that an authenticated request costs no database round trip.
 * Entries live auth.cache_seconds; revocations and plan changes evict them at once on every node
 * (see {@link io.keypulse.bus.Addresses#CREDENTIALS_CHANGED}). Keyed by hash: no plaintext kept.
 */
public final class CredentialCache {
  private static final int MAX_ENTRIES = 100_000;

  private record Entry(Credential credential, long expiresAtMillis) {}

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final long ttlMillis;
  private final Clock clock;

  public CredentialCache(int ttlSeconds, Clock clock) {
    this.ttlMillis = ttlSeconds * 1000L;
    this.clock = clock;
  }

  Future<Optional<Credential>> lookup(String apiKey, ApiKeys apiKeys) {
    String id = HexFormat.of().formatHex(Credentials.hash(apiKey));
    Entry hit = entries.get(id);
    long now = clock.millis();
    if (hit != null && hit.expiresAtMillis() > now) {
      return Future.succeededFuture(Optional.of(hit.credential()));
    }
    return apiKeys.authenticate(apiKey).onSuccess(found -> found.ifPresent(c -> remember(id, c, now)));
  }

  /** A partner's credentials changed: forget them here at once, and tell every other node. */
  public void announceChange(Vertx vertx, String partnerId) {
    evictPartner(partnerId);
    vertx.eventBus().publish(Addresses.CREDENTIALS_CHANGED, new CredentialsChanged(partnerId));
  }

  /** Forgets every key of the partner (revocation, suspension, plan change). */
  public void evictPartner(String partnerId) {
    entries.values().removeIf(e -> e.credential().partnerId().equals(partnerId));
  }

  private void remember(String id, Credential credential, long now) {
    if (entries.size() >= MAX_ENTRIES) {
      entries.values().removeIf(e -> e.expiresAtMillis() <= now);
      if (entries.size() >= MAX_ENTRIES) {
        entries.clear();
      }
    }
    entries.put(id, new Entry(credential, now + ttlMillis));
  }
}
