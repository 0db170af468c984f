package io.keypulse.detect;

import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import io.vertx.core.Context;
import java.util.function.IntConsumer;

/** Tells a shard, on its own event loop, when this member hands one of the shard's partitions to another. */
final class Partitions implements MigrationListener {
  private final int shard;
  private final int shards;
  private final Context shardContext;
  private final IntConsumer lost;

  Partitions(int shard, int shards, Context shardContext, IntConsumer lost) {
    this.shard = shard;
    this.shards = shards;
    this.shardContext = shardContext;
    this.lost = lost;
  }

  @Override
  public void migrationStarted(MigrationState state) {}

  @Override
  public void migrationFinished(MigrationState state) {}

  @Override
  public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
    if (event.getReplicaIndex() == 0 && event.getSource() != null && event.getSource().localMember()
        && event.getPartitionId() % shards == shard) {
      shardContext.runOnContext(v -> lost.accept(event.getPartitionId()));
    }
  }

  @Override
  public void replicaMigrationFailed(ReplicaMigrationEvent event) {}
}
