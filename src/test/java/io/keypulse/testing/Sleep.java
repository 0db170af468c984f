package io.keypulse.testing;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Thread.sleep for tests that poll, without the checked exception; and the polling itself. */
public final class Sleep {
  private Sleep() {}

  public static void millis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Asks every 10 ms until the answer is not null or the time is up (then null). */
  public static <T> T poll(Supplier<T> attempt, long timeoutMillis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (true) {
      T answer = attempt.get();
      if (answer != null || System.nanoTime() > end) {
        return answer;
      }
      millis(10);
    }
  }
}
