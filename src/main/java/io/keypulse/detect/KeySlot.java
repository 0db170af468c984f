package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A key in its shard. Loading rebuilds the state from the checkpoint and the events after it;
 * events of the replay that were never scored are detected then, and their alert counts kept for
 * the messages that announced them and arrive after the load.
 */
final class KeySlot extends Slot {
  final String partnerId;
  final String keyId;
  KeyState state;
  long loadedUpTo;
  final Map<Long, Detection> replayed = new HashMap<>();
  private final StateLoader loader;
  private final Function<KeySlot, Function<EventFacts, Future<Detection>>> detectDuringLoad;
  private final Runnable onLoaded;

  KeySlot(String partnerId, String keyId, int partition, StateLoader loader,
          Function<KeySlot, Function<EventFacts, Future<Detection>>> detectDuringLoad, Runnable onLoaded) {
    super(StateLoader.owner(partnerId, keyId), partition);
    this.partnerId = partnerId;
    this.keyId = keyId;
    this.loader = loader;
    this.detectDuringLoad = detectDuringLoad;
    this.onLoaded = onLoaded;
  }

  @Override
  boolean loaded() {
    return state != null;
  }

  @Override
  Future<Void> load() {
    return loader.key(partnerId, keyId).compose(loadedKey -> {
      state = loadedKey.state();
      loadedUpTo = loadedKey.checkpointedUpTo();
      onLoaded.run();
      return replay(loadedKey.replay());
    });
  }

  private Future<Void> replay(List<EventFacts> events) {
    Function<EventFacts, Future<Detection>> detect = detectDuringLoad.apply(this);
    Future<Void> chain = Future.succeededFuture();
    for (EventFacts e : events) {
      chain = chain.compose(v -> {
        loadedUpTo = Math.max(loadedUpTo, e.id());
        return detect.apply(e).map(detection -> {
          if (!e.scored()) {
            replayed.put(e.id(), detection);
          }
          return null;
        });
      });
    }
    return chain;
  }

  boolean includes(long eventId) {
    return eventId <= loadedUpTo;
  }
}
