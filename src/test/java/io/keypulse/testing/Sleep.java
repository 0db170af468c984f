package io.keypulse.testing;

/** Thread.sleep for tests that poll, without the checked exception. */
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
}
