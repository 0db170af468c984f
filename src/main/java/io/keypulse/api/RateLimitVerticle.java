package io.keypulse.api;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.TakeToken;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** One per node: answers other nodes for the rate-limit buckets this node owns, and sweeps old windows. */
public final class RateLimitVerticle extends VerticleBase {
  private static final long SWEEP_MILLIS = 60_000;
  private final RateLimiter limiter;
  private final HazelcastInstance hazelcast;

  public RateLimitVerticle(RateLimiter limiter, HazelcastInstance hazelcast) {
    this.limiter = limiter;
    this.hazelcast = hazelcast;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(SWEEP_MILLIS, id -> limiter.sweep());
    String address = Addresses.rateLimit(hazelcast.getCluster().getLocalMember().getUuid().toString());
    return vertx.eventBus().<TakeToken>consumer(address,
        msg -> msg.reply(limiter.takeHere(msg.body().bucket(), msg.body().perMinute()))).completion();
  }
}
