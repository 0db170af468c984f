package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.bus.PartnerSettingsChanged;
import io.keypulse.detect.PartnerSettingsCache;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * One per node: keeps the node's caches in step with changes made anywhere in the cluster
 * (revoked keys and plans; detection policies and thresholds).
 */
public final class CacheSyncVerticle extends VerticleBase {
  private final CredentialCache credentials;
  private final PartnerSettingsCache settings;

  public CacheSyncVerticle(CredentialCache credentials, PartnerSettingsCache settings) {
    this.credentials = credentials;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    return Future.join(
        vertx.eventBus().<CredentialsChanged>consumer(Addresses.CREDENTIALS_CHANGED,
            msg -> credentials.evictPartner(msg.body().partnerId())).completion(),
        vertx.eventBus().<PartnerSettingsChanged>consumer(Addresses.PARTNER_SETTINGS_CHANGED,
            msg -> settings.evict(msg.body().partnerId())).completion());
  }
}
