package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.bus.PartnerSettingsChanged;
import io.keypulse.detect.PartnerSettingsCache;
import io.keypulse.ops.Staggered;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per node: keeps the node's caches in step with changes made anywhere in the cluster
 * (revoked keys and plans; detection policies and thresholds), and writes the last use of the keys
 * it saw, in one statement per period.
 */
public final class CacheSyncVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(CacheSyncVerticle.class);

  private final CredentialCache credentials;
  private final PartnerSettingsCache settings;
  private final int flushSeconds;

  public CacheSyncVerticle(CredentialCache credentials, PartnerSettingsCache settings, int flushSeconds) {
    this.credentials = credentials;
    this.settings = settings;
    this.flushSeconds = flushSeconds;
  }

  @Override
  public Future<?> start() {
    Staggered.every(vertx, flushSeconds * 1000L, id -> credentials.flushUsed()
        .onFailure(e -> log.debug("could not record the last use of API keys: {}", e.toString())));
    return Future.join(
        vertx.eventBus().<CredentialsChanged>consumer(Addresses.CREDENTIALS_CHANGED,
            msg -> credentials.evictPartner(msg.body().partnerId())).completion(),
        vertx.eventBus().<PartnerSettingsChanged>consumer(Addresses.PARTNER_SETTINGS_CHANGED,
            msg -> settings.evict(msg.body().partnerId())).completion());
  }
}
