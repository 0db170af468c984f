package io.keypulse.api;

import com.hazelcast.core.HazelcastInstance;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.grid.hazelcast.Bucket4jHazelcast;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster-wide rate limits: one token bucket per API key in a Hazelcast map, updated by an entry
 * processor on the partition owner, so every node draws from the same budget. The budget refills
 * whole once a minute, which makes X-RateLimit-Remaining count down by one per request and
 * X-RateLimit-Reset a fixed instant within a window.
 */
public final class RateLimiter {
  public static final String MAP = "keypulse.ratelimit";
  private static final Duration WINDOW = Duration.ofMinutes(1);
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final AsyncProxyManager<String> buckets;
  private final Clock clock;

  public RateLimiter(HazelcastInstance hazelcast, Clock clock) {
    this.buckets = Bucket4jHazelcast.<String>entryProcessorBasedBuilder(hazelcast.getMap(MAP))
        .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
        .build()
        .asAsync();
    this.clock = clock;
  }

  /** Takes one request from the bucket; the answer arrives on the caller's context. */
  Future<Quota> take(Context context, String bucket, int perMinute) {
    // The limit is part of the bucket's name: a plan change starts a fresh bucket at the new size.
    CompletableFuture<ConsumptionProbe> probe = buckets.builder()
        .build(bucket + "@" + perMinute, () -> CompletableFuture.completedFuture(configuration(perMinute)))
        .tryConsumeAndReturnRemaining(1);
    return Future.fromCompletionStage(probe, context).map(p -> quota(p, perMinute));
  }

  private static BucketConfiguration configuration(int perMinute) {
    return BucketConfiguration.builder()
        .addLimit(Bandwidth.builder().capacity(perMinute).refillIntervally(perMinute, WINDOW).build())
        .build();
  }

  private Quota quota(ConsumptionProbe probe, int perMinute) {
    long nowMillis = clock.millis();
    long resetAt = ceilSeconds(nowMillis * 1_000_000L + probe.getNanosToWaitForReset());
    long retryAfter = Math.max(1, (probe.getNanosToWaitForRefill() + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND);
    return new Quota(probe.isConsumed(), perMinute, probe.getRemainingTokens(), resetAt, retryAfter);
  }

  private static long ceilSeconds(long epochNanos) {
    return (epochNanos + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
  }
}
