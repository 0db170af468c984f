package io.keypulse.detect;

import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A key in its shard: its state (whose lastEventId is the key's detection watermark: every event
 * of the key up to it has been detected, in commit order) and what recent events produced, for
 * messages that announce an event the shard already caught up on.
 */
final class KeySlot extends Slot {
  private static final int RECENT = 64;
  final String partnerId;
  final String keyId;
  KeyState state;
  /** False until a checkpoint or a first catch-up said where the key's history starts. */
  boolean anchored;
  final Map<Long, Detection> recent = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Detection> eldest) {
      return size() > RECENT;
    }
  };
  private final StateLoader loader;
  private final Runnable onLoaded;

  KeySlot(String partnerId, String keyId, int partition, StateLoader loader, Runnable onLoaded) {
    super(StateLoader.owner(partnerId, keyId), partition);
    this.partnerId = partnerId;
    this.keyId = keyId;
    this.loader = loader;
    this.onLoaded = onLoaded;
  }

  @Override
  boolean loaded() {
    return state != null;
  }

  @Override
  Future<Void> load() {
    return loader.key(partnerId, keyId).map(loaded -> {
      state = loaded.state();
      anchored = loaded.checkpointed();
      onLoaded.run();
      return null;
    });
  }

  long watermark() {
    return state.lastEventId;
  }
}
