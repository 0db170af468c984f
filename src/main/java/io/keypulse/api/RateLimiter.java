package io.keypulse.api;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.Quota;
import io.keypulse.bus.TakeToken;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerResponse;
import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster-wide rate limits. Each bucket (one per API key) is counted by exactly one node: the
 * owner of the bucket's Hazelcast partition. Requests on the owner cost a map lookup; elsewhere one
 * event-bus round trip to the owner. So every node draws from one budget per key, as with a
 * central store, without paying a Hazelcast operation per request (measured here: Bucket4j on an
 * IMap capped a node at ~1.6k authenticated requests/s). The budget refills whole once a minute:
 * X-RateLimit-Remaining counts down by one and X-RateLimit-Reset stays put within a window.
 * When ownership moves (a node joins or leaves) the new owner starts a fresh window.
 */
public final class RateLimiter {
  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
  private static final long WINDOW_MILLIS = 60_000;
  private static final long ASK_TIMEOUT_MILLIS = 2_000;
  private static final int MAX_WINDOWS = 200_000;

  private final HazelcastInstance hazelcast;
  private final Clock clock;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Partition> partitions = new ConcurrentHashMap<>();
  private volatile long lastFullSweep;
  private final DeliveryOptions ask = new DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MILLIS);

  public RateLimiter(HazelcastInstance hazelcast, Clock clock) {
    this.hazelcast = hazelcast;
    this.clock = clock;
  }

  /** Takes one request from the bucket, here if this node owns it, else from its owner. */
  Future<Quota> take(Vertx vertx, String bucket, int perMinute) {
    // The limit is part of the bucket's name: a plan change starts a fresh bucket at the new size.
    String name = bucket + "@" + perMinute;
    Member owner = partitionOf(name).getOwner();
    if (owner == null || owner.localMember()) {
      return Future.succeededFuture(takeHere(name, perMinute));
    }
    return vertx.eventBus().<Quota>request(Addresses.rateLimit(owner.getUuid().toString()),
            new TakeToken(name, perMinute), ask)
        .map(reply -> reply.body())
        .recover(failure -> {
          // The owner just left or is overloaded: count here rather than refuse the partner.
          log.debug("rate-limit owner {} did not answer ({}); counting locally", owner, failure.toString());
          return Future.succeededFuture(takeHere(name, perMinute));
        });
  }

  /**
   * The bucket's Hazelcast partition, which reads its current owner when asked. Finding it hashes the
   * bucket's serialized name, per request until cached; bounded like the windows.
   */
  private Partition partitionOf(String name) {
    Partition partition = partitions.get(name);
    if (partition == null) {
      if (partitions.size() >= MAX_WINDOWS) {
        partitions.clear();
      }
      partition = hazelcast.getPartitionService().getPartition(name);
      partitions.put(name, partition);
    }
    return partition;
  }

  /**
   * Answers a {@link TakeToken} for a bucket this node owns. The windows are bounded: past
   * MAX_WINDOWS buckets active in one minute (only a flood from that many client addresses gets
   * there) a new bucket is allowed without being counted, and the defences behind the limit
   * (credential caches, bounded look-ups) carry the load.
   */
  public Quota takeHere(String bucket, int perMinute) {
    long now = clock.millis();
    Window window = windows.get(bucket);
    if (window == null) {
      if (windows.size() >= MAX_WINDOWS) {
        if (now - lastFullSweep > 1000) {
          lastFullSweep = now;
          sweep();
        }
        if (windows.size() >= MAX_WINDOWS) {
          return new Quota(true, perMinute, perMinute, (now + WINDOW_MILLIS) / 1000, 1);
        }
      }
      window = windows.computeIfAbsent(bucket, b -> new Window());
    }
    return window.take(now, perMinute);
  }

  /** Forgets windows that ended: memory stays proportional to keys active in the last minute. */
  public void sweep() {
    long now = clock.millis();
    windows.values().removeIf(w -> w.endedBefore(now));
  }

  static void writeHeaders(Quota quota, HttpServerResponse response) {
    response.putHeader("X-RateLimit-Limit", Long.toString(quota.limit()))
        .putHeader("X-RateLimit-Remaining", Long.toString(quota.remaining()))
        .putHeader("X-RateLimit-Reset", Long.toString(quota.resetEpochSeconds()));
    if (!quota.allowed()) {
      response.putHeader("Retry-After", Long.toString(quota.retryAfterSeconds()));
    }
  }

  /** One bucket's current minute. */
  private static final class Window {
    private long start = -WINDOW_MILLIS;
    private long used;

    synchronized Quota take(long now, int limit) {
      if (now - start >= WINDOW_MILLIS) {
        start = now;
        used = 0;
      }
      boolean allowed = used < limit;
      if (allowed) {
        used++;
      }
      long end = start + WINDOW_MILLIS;
      return new Quota(allowed, limit, limit - used, (end + 999) / 1000, Math.max(1, (end - now + 999) / 1000));
    }

    synchronized boolean endedBefore(long now) {
      return now - start >= WINDOW_MILLIS;
    }
  }
}
