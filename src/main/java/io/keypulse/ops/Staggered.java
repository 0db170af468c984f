package io.keypulse.ops;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Periodic background work (lease renewal and the reaper, state checkpoints, the scheduler's sweeps,
 * the outbox gauge) that starts at a random point of its period instead of at deployment.
 *
 * <p>All of a node's verticles deploy within a second, so timers set at deployment with periods of
 * 5, 10, 15 and 60 s fired in the same instant from then on. Every tenth second a node then ran its
 * two shards' checkpoints, the lease renewal, the reaper, the outbox count and (every 30 s) the
 * rescue sweep at once, on two cores: 160-200 ms of queries side by side, the writer's commits
 * waiting behind them, and ingest -> webhook latency of 100-500 ms for everything sent in that
 * window (pg's log_min_duration_statement lined up with the slow requests of a steady 2 500
 * events/s run). Spread over their periods they overlap only by chance.
 */
public final class Staggered {
  private Staggered() {}

  /** Runs the handler every {@code periodMillis}, the first time after a random delay of at most one period. */
  public static long every(Vertx vertx, long periodMillis, Handler<Long> handler) {
    return every(vertx, periodMillis, bound -> ThreadLocalRandom.current().nextLong(bound), handler);
  }

  /** As {@link #every(Vertx, long, Handler)}, the first delay drawn by {@code random} (from 0 up to its bound, excluded). */
  static long every(Vertx vertx, long periodMillis, LongUnaryOperator random, Handler<Long> handler) {
    if (periodMillis < 1) {
      throw new IllegalArgumentException("period must be at least 1 ms: " + periodMillis);
    }
    // Vert.x wants a first delay of at least 1 ms.
    long first = 1 + random.applyAsLong(periodMillis);
    return vertx.setPeriodic(first, periodMillis, handler);
  }
}
