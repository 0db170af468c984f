package io.keypulse.detect;

import io.vertx.core.Future;
import java.util.function.Supplier;

/**
 * A key's (or partner's) place in a shard: its state once loaded, and the queue that runs its work
 * one step at a time, in arrival order, even when a step waits for I/O.
 */
abstract class Slot {
  private static final int RECENT = 32;
  final String owner;
  final int partition;
  private Future<?> tail = Future.succeededFuture();
  private final long[] recent = new long[RECENT];
  private int recentNext;
  int pending;
  boolean dirty;
  long touched;

  Slot(String owner, int partition) {
    this.owner = owner;
    this.partition = partition;
  }

  abstract boolean loaded();

  abstract Future<Void> load();

  /** Runs the step after every step queued before it (and after the state is loaded). */
  <T> Future<T> enqueue(Supplier<Future<T>> step, long now) {
    pending++;
    touched = now;
    Future<T> run = tail.transform(previous -> loaded() ? step.get() : load().compose(v -> step.get()));
    tail = run.transform(done -> Future.succeededFuture());
    return run.andThen(done -> pending--);
  }

  /** Completes when every queued step has run. */
  Future<?> idle() {
    return tail;
  }

  /** A small window of event ids seen lately: a message delivered twice is not counted twice. */
  boolean seen(long eventId) {
    for (long id : recent) {
      if (id == eventId) {
        return true;
      }
    }
    return false;
  }

  void remember(long eventId) {
    recent[recentNext] = eventId;
    recentNext = (recentNext + 1) % RECENT;
  }
}
