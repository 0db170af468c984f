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
import io.keypulse.bus.RequestIds;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Where a key's (or a partner's) behavioural state lives: on the owner of its Hazelcast partition,
 * in shard {@code partition % shardsPerNode} there. Hazelcast moves partitions when members join
 * or leave; this router always asks it, so messages follow the state.
 */
public final class DetectRouter {
  private static final int MAX_CACHED_ROUTES = 200_000;
  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final int shardsPerNode;
  private final DeliveryOptions options;
  /**
   * For this node's own shards: a local-only send skips the cluster's subscription look-up (a
   * Hazelcast MultiMap read per message, ~3 % of a single event's CPU) and any encoding.
   */
  private final DeliveryOptions localOptions;
  private final String localPrefix;
  /** A route's partition never changes (only its owner does); hashing it is worth remembering. */
  private final ConcurrentHashMap<String, Integer> partitionIds = new ConcurrentHashMap<>();
  private volatile Partition[] partitions;
  /** Per partition: the owner last seen and its shard address, recomputed only when the owner changes. */
  private final AtomicReferenceArray<Object[]> addresses = new AtomicReferenceArray<>(MAX_PARTITIONS);
  private static final int MAX_PARTITIONS = 65_536;

  public DetectRouter(Vertx vertx, HazelcastInstance hazelcast, int shardsPerNode, long timeoutMillis) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.shardsPerNode = shardsPerNode;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
    this.localOptions = new DeliveryOptions(options).setLocalOnly(true);
    this.localPrefix = Addresses.detectShards(hazelcast.getCluster().getLocalMember().getUuid().toString());
  }

  /** The options for a message to this shard address: local-only when the shard is this node's. */
  private DeliveryOptions optionsFor(String address) {
    return address.startsWith(localPrefix) ? localOptions : options;
  }

  public static String keyRoute(String partnerId, String keyId) {
    return StateLoader.owner(partnerId, keyId);
  }

  static String partnerRoute(String partnerId) {
    return "p:" + partnerId;
  }

  int partitionOf(String route) {
    Integer id = partitionIds.get(route);
    if (id == null) {
      id = hazelcast.getPartitionService().getPartition(route).getPartitionId();
      if (partitionIds.size() >= MAX_CACHED_ROUTES) {
        partitionIds.clear();
      }
      partitionIds.put(route, id);
    }
    return id;
  }

  /** The shard address of the route's partition owner (a Partition's owner is always current). */
  public String addressOf(String route) {
    int id = partitionOf(route);
    Member owner = partitions()[id].getOwner();
    Member member = owner != null ? owner : hazelcast.getCluster().getLocalMember();
    Object[] known = addresses.get(id);
    if (known == null || known[0] != member) {
      known = new Object[] {member, Addresses.detect(member.getUuid().toString(), id % shardsPerNode)};
      addresses.set(id, known);
    }
    return (String) known[1];
  }

  private Partition[] partitions() {
    Partition[] known = partitions;
    if (known == null) {
      known = new Partition[hazelcast.getPartitionService().getPartitions().size()];
      for (Partition p : hazelcast.getPartitionService().getPartitions()) {
        known[p.getPartitionId()] = p;
      }
      partitions = known;
    }
    return known;
  }

  /**
   * Sends each event to its key's shard (one message per shard, order kept): new alerts and score per event.
   * requestOfEvent (same order, entries may be null) names the request each came with: a message's headers
   * carry the ids of the requests whose events it holds.
   */
  public Future<Detected> detect(List<EventFacts> events, List<String> requestOfEvent) {
    return send(events, requestOfEvent, false);
  }

  Future<Detected> send(List<EventFacts> events, List<String> requestOfEvent, boolean forwarded) {
    Map<String, List<Integer>> byShard = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      EventFacts e = events.get(i);
      byShard.computeIfAbsent(addressOf(keyRoute(e.partnerId(), e.keyId())), a -> new ArrayList<>()).add(i);
    }
    Integer[] counts = new Integer[events.size()];
    Double[] scores = new Double[events.size()];
    Arrays.fill(counts, 0);
    Arrays.fill(scores, 0.0);
    List<Future<Void>> replies = new ArrayList<>();
    byShard.forEach((address, indexes) -> {
      List<EventFacts> group = indexes.stream().map(events::get).toList();
      String requestIds = RequestIds.join(indexes.stream().map(requestOfEvent::get).toList());
      DeliveryOptions base = optionsFor(address);
      DeliveryOptions sent = requestIds == null ? base : new DeliveryOptions(base)
          .addHeader(RequestIds.BUS_HEADER, requestIds);
      replies.add(vertx.eventBus().<Detected>request(address, new DetectEvents(group, forwarded), sent)
          .map(reply -> {
            for (int j = 0; j < indexes.size(); j++) {
              counts[indexes.get(j)] = reply.body().newAlerts().get(j);
              scores[indexes.get(j)] = reply.body().scores().get(j);
            }
            return null;
          }));
    });
    return Future.join(replies).transform(done -> done.succeeded()
        ? Future.succeededFuture(new Detected(List.of(counts), List.of(scores))) : Future.failedFuture(done.cause()));
  }

  Future<ProvisionVerdict> provisioning(ProvisionCheck check) {
    String address = addressOf(partnerRoute(check.partnerId()));
    return vertx.eventBus().<ProvisionVerdict>request(address, check, optionsFor(address)).map(reply -> reply.body());
  }

  public void command(KeyCommand command) {
    vertx.eventBus().send(addressOf(keyRoute(command.partnerId(), command.keyId())), command);
  }
}
