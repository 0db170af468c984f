package io.keypulse.detect;

import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Partner settings per node. Only loaded values are kept, so a hit completes at once on the
 * caller's event loop, and a miss loads through the caller's own pool. Changes evict everywhere.
 */
public final class PartnerSettingsCache {
  private static final int MAX_PARTNERS = 50_000;
  private final ConcurrentHashMap<String, PartnerSettings> settings = new ConcurrentHashMap<>();
  /** Bumped by every eviction: a load that overlapped one may have read the old settings. */
  private final AtomicLong evictions = new AtomicLong();

  Future<PartnerSettings> get(String partnerId, PartnerSettingsStore store) {
    PartnerSettings hit = settings.get(partnerId);
    if (hit != null) {
      return Future.succeededFuture(hit);
    }
    long before = evictions.get();
    return store.load(partnerId).onSuccess(loaded -> {
      if (evictions.get() != before) {
        return;
      }
      if (settings.size() >= MAX_PARTNERS) {
        settings.clear();
      }
      settings.put(partnerId, loaded);
    });
  }

  public void evict(String partnerId) {
    evictions.incrementAndGet();
    settings.remove(partnerId);
  }
}
