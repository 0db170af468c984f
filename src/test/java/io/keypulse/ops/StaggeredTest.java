package io.keypulse.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StaggeredTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  @DisplayName("The first run waits the drawn phase (never less), then the handler runs every period")
  void firstAfterItsPhaseThenEveryPeriod() throws Exception {
    AtomicLong bound = new AtomicLong();
    List<Long> runs = new CopyOnWriteArrayList<>();
    long start = System.nanoTime();
    long timer = Staggered.every(vertx, 200, b -> {
      bound.set(b);
      return 150;
    }, id -> runs.add(System.nanoTime()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (runs.size() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    vertx.cancelTimer(timer);

    assertThat(bound.get()).as("the phase is drawn within one period").isEqualTo(200);
    assertThat(runs).hasSizeGreaterThanOrEqualTo(3);
    // Timers never fire early: the first run comes 1 + 150 ms or later, each next one a period later.
    assertThat(runs.get(0) - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(151));
    assertThat(runs.get(1) - runs.get(0)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190));
    assertThat(runs.get(2) - runs.get(1)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190));
  }

  @Test
  @DisplayName("Timers set in the same instant with the same period start at different points of it")
  void samePeriodDifferentPhases() throws Exception {
    List<Long> firsts = new CopyOnWriteArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      Staggered.every(vertx, 2000, t -> {
        firsts.add(System.nanoTime() - start);
        vertx.cancelTimer(t);
      });
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (firsts.size() < 20 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(firsts).hasSize(20);
    // Twenty phases drawn from 2 s: the chance that all fall within one 100 ms window is below 1e-20.
    long spread = firsts.stream().mapToLong(Long::longValue).max().orElseThrow()
        - firsts.stream().mapToLong(Long::longValue).min().orElseThrow();
    assertThat(spread).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(100));
  }

  @Test
  void periodMustBePositive() {
    assertThatThrownBy(() -> Staggered.every(vertx, 0, id -> {})).isInstanceOf(IllegalArgumentException.class);
  }
}
