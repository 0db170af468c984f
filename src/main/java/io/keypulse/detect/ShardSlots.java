package io.keypulse.detect;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys and partners a shard holds in memory, and their lifecycle: created on first use (loaded
 * from their checkpoint then), checkpointed when dirty, dropped when idle, handed over when the node
 * loses their partition. A slot is checkpointed through its own queue, so the snapshot is consistent.
 */
final class ShardSlots {
  private final int shard;
  private final DetectSetup setup;
  private final DetectRouter router;
  private final StateLoader loader;
  private final VerdictWriter writer;
  private final Map<String, KeySlot> keys = new HashMap<>();
  private final Map<String, PartnerSlot> partners = new HashMap<>();

  ShardSlots(int shard, DetectSetup setup, DetectRouter router, StateLoader loader, VerdictWriter writer) {
    this.shard = shard;
    this.setup = setup;
    this.router = router;
    this.loader = loader;
    this.writer = writer;
  }

  KeySlot key(String partnerId, String keyId) {
    String route = DetectRouter.keyRoute(partnerId, keyId);
    return keys.computeIfAbsent(route, r -> new KeySlot(partnerId, keyId, router.partitionOf(r), loader,
        () -> setup.stats().keyLoaded()));
  }

  PartnerSlot partner(String partnerId) {
    return partners.computeIfAbsent(partnerId,
        p -> new PartnerSlot(p, router.partitionOf(DetectRouter.partnerRoute(p)), loader));
  }

  /**
   * Checkpoints every dirty slot, drops keys idle for detect.idle_evict_minutes; at stop, every
   * slot, and the future waits for all of it.
   */
  Future<Void> checkpointRound(boolean stopping, long now) {
    long idleLimit = setup.config().detect().idleEvictMinutes() * 60_000L;
    long bytes = 0;
    List<Future<?>> waits = new ArrayList<>();
    for (KeySlot slot : new ArrayList<>(keys.values())) {
      bytes += slot.loaded() ? slot.state.bytes() : 0;
      if (slot.dirty || stopping) {
        waits.add(slot.enqueue(() -> Future.succeededFuture(checkpoint(slot)), slot.touched));
      } else if (slot.pending == 0 && now - slot.touched > idleLimit) {
        drop(slot);
      }
    }
    for (PartnerSlot slot : new ArrayList<>(partners.values())) {
      if (slot.dirty || stopping) {
        waits.add(slot.enqueue(() -> Future.succeededFuture(checkpoint(slot)), slot.touched));
      }
    }
    setup.stats().shardBytes(shard, bytes);
    return Future.join(waits).mapEmpty();
  }

  /** This node lost a partition: hand its keys over (checkpoint, then forget them). */
  void release(int partition) {
    for (KeySlot slot : new ArrayList<>(keys.values())) {
      if (slot.partition == partition) {
        slot.enqueue(() -> Future.succeededFuture(checkpoint(slot)), slot.touched).onComplete(done -> drop(slot));
      }
    }
    partners.values().removeIf(slot -> {
      if (slot.partition == partition) {
        checkpoint(slot);
        return true;
      }
      return false;
    });
  }

  private Object checkpoint(Slot slot) {
    if (!slot.dirty || !slot.loaded()) {
      return null;
    }
    slot.dirty = false;
    if (slot instanceof KeySlot k) {
      writer.checkpoint(new VerdictWriter.Checkpoint(k.owner, k.state.lastEventId, KeyStateCodec.write(k.state)));
    } else if (slot instanceof PartnerSlot p) {
      writer.checkpoint(new VerdictWriter.Checkpoint(p.owner, p.state.lastEventId, p.state.toBytes()));
    }
    return null;
  }

  private void drop(KeySlot slot) {
    keys.remove(slot.owner);
    if (slot.loaded()) {
      setup.stats().keyDropped();
    }
  }
}
