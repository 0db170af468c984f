package io.keypulse.detect;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.DetectEvents;
import io.keypulse.bus.Detected;
import io.keypulse.bus.EventFacts;
import io.keypulse.bus.KeyCommand;
import io.keypulse.bus.ProvisionCheck;
import io.keypulse.bus.ProvisionVerdict;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a key's (or a partner's) behavioural state lives: on the owner of its Hazelcast partition,
 * in shard {@code partition % shardsPerNode} there. Hazelcast moves partitions when members join
 * or leave; this router always asks it, so messages follow the state.
 */
public final class DetectRouter {
  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final int shardsPerNode;
  private final DeliveryOptions options;

  public DetectRouter(Vertx vertx, HazelcastInstance hazelcast, int shardsPerNode, long timeoutMillis) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.shardsPerNode = shardsPerNode;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
  }

  public static String keyRoute(String partnerId, String keyId) {
    return StateLoader.owner(partnerId, keyId);
  }

  static String partnerRoute(String partnerId) {
    return "p:" + partnerId;
  }

  int partitionOf(String route) {
    return hazelcast.getPartitionService().getPartition(route).getPartitionId();
  }

  public String addressOf(String route) {
    Partition partition = hazelcast.getPartitionService().getPartition(route);
    Member owner = partition.getOwner();
    Member member = owner != null ? owner : hazelcast.getCluster().getLocalMember();
    return Addresses.detect(member.getUuid().toString(), partition.getPartitionId() % shardsPerNode);
  }

  /** Sends each event to its key's shard (one message per shard, order kept); new alerts per event. */
  public Future<List<Integer>> detect(List<EventFacts> events) {
    return send(events, false, false);
  }

  /** For the scheduler: events found unscored long after their commit. */
  public Future<List<Integer>> rescue(List<EventFacts> events) {
    return send(events, false, true);
  }

  Future<List<Integer>> send(List<EventFacts> events, boolean forwarded, boolean rescued) {
    Map<String, List<Integer>> byShard = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      EventFacts e = events.get(i);
      byShard.computeIfAbsent(addressOf(keyRoute(e.partnerId(), e.keyId())), a -> new ArrayList<>()).add(i);
    }
    Integer[] counts = new Integer[events.size()];
    Arrays.fill(counts, 0);
    List<Future<Void>> replies = new ArrayList<>();
    byShard.forEach((address, indexes) -> {
      List<EventFacts> group = indexes.stream().map(events::get).toList();
      replies.add(vertx.eventBus().<Detected>request(address, new DetectEvents(group, forwarded, rescued), options)
          .map(reply -> {
            for (int j = 0; j < indexes.size(); j++) {
              counts[indexes.get(j)] = reply.body().newAlerts().get(j);
            }
            return null;
          }));
    });
    return Future.join(replies).transform(done -> done.succeeded() ? Future.succeededFuture(List.of(counts))
        : Future.failedFuture(done.cause()));
  }

  Future<ProvisionVerdict> provisioning(ProvisionCheck check) {
    return vertx.eventBus().<ProvisionVerdict>request(addressOf(partnerRoute(check.partnerId())), check, options)
        .map(reply -> reply.body());
  }

  public void command(KeyCommand command) {
    vertx.eventBus().send(addressOf(keyRoute(command.partnerId(), command.keyId())), command);
  }
}
