package io.keypulse.ops;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * What /ready reports beyond live checks: migrations done, verticles serving, not draining; and
 * the state of the store that /health shows (an external Postgres is not ours to watch).
 */
public final class Readiness {
  private final AtomicBoolean migrated = new AtomicBoolean();
  private final AtomicBoolean serving = new AtomicBoolean();
  private volatile Supplier<JsonObject> store = () -> new JsonObject().put("embedded", false);

  public void migrated() {
    migrated.set(true);
  }

  public void serving(boolean value) {
    serving.set(value);
  }

  /** The embedded Postgres' state, e.g. its watchdog's; must be cheap (no query). */
  public void store(Supplier<JsonObject> state) {
    store = state;
  }

  /** Migrated and serving: what /ready checks besides the database and the cluster. */
  public boolean up() {
    return migrated.get() && serving.get();
  }

  boolean isMigrated() {
    return migrated.get();
  }

  boolean isServing() {
    return serving.get();
  }

  JsonObject store() {
    return store.get();
  }
}
