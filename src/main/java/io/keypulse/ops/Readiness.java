package io.keypulse.ops;

import java.util.concurrent.atomic.AtomicBoolean;

/** What /ready reports beyond live checks: migrations done, verticles serving, not draining. */
public final class Readiness {
  private final AtomicBoolean migrated = new AtomicBoolean();
  private final AtomicBoolean serving = new AtomicBoolean();

  public void migrated() {
    migrated.set(true);
  }

  public void serving(boolean value) {
    serving.set(value);
  }

  boolean isMigrated() {
    return migrated.get();
  }

  boolean isServing() {
    return serving.get();
  }
}
