package io.keypulse.detect;

import io.vertx.core.Future;

/** A partner in the shard that owns it: its key creations, for provisioning_spike. */
final class PartnerSlot extends Slot {
  final String partnerId;
  PartnerState state;
  long loadedUpTo;
  private final StateLoader loader;

  PartnerSlot(String partnerId, int partition, StateLoader loader) {
    super(DetectRouter.partnerRoute(partnerId), partition);
    this.partnerId = partnerId;
    this.loader = loader;
  }

  @Override
  boolean loaded() {
    return state != null;
  }

  @Override
  Future<Void> load() {
    return loader.partner(partnerId).map(loaded -> {
      state = loaded.state();
      loadedUpTo = loaded.upTo();
      return null;
    });
  }
}
