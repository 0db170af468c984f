package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** One per node: keeps the node's credential cache in step with revocations made anywhere in the cluster. */
public final class CredentialSyncVerticle extends VerticleBase {
  private final CredentialCache credentials;

  public CredentialSyncVerticle(CredentialCache credentials) {
    this.credentials = credentials;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<CredentialsChanged>consumer(Addresses.CREDENTIALS_CHANGED,
        msg -> credentials.evictPartner(msg.body().partnerId())).completion();
  }
}
