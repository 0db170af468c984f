package io.keypulse.db;

import io.keypulse.config.Config;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the node's embedded Postgres up: every embedded_check_ms it checks that the server process
 * lives and, when it does not, starts it again on the same port and files, waiting
 * restart_backoff_ms after a failed attempt, doubling up to restart_backoff_max_ms (a killed
 * server's backends may hold its shared memory for a moment). The pools need no help: they open
 * connections on demand, so requests get 503 while the server is down and succeed once it is back.
 * Logs one line per change of state, not one per attempt. Its own thread, since pg_ctl blocks.
 */
public final class PostgresWatchdog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresWatchdog.class);
  /** Long enough for an attempt under way to finish (pg_ctl start waits at most 60 s). */
  private static final long CLOSE_WAIT_SECONDS = 90;

  /** running: serving; restarting: died, first attempt under way; down: attempts failing, retrying. */
  public enum State { RUNNING, RESTARTING, DOWN }

  private final EmbeddedPostgres pg;
  private final Config.Pg config;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "postgres-watchdog");
    t.setDaemon(true);
    return t;
  });
  private volatile State state = State.RUNNING;
  private volatile int restarts;
  private volatile String lastError;
  private int attempts;
  private long backoffMs;
  private long nextAttemptAt;
  private long diedAt;

  private PostgresWatchdog(EmbeddedPostgres pg, Config.Pg config) {
    this.pg = pg;
    this.config = config;
  }

  public static PostgresWatchdog start(EmbeddedPostgres pg, Config.Pg config) {
    PostgresWatchdog watchdog = new PostgresWatchdog(pg, config);
    watchdog.thread.scheduleWithFixedDelay(watchdog::check, config.embeddedCheckMs(), config.embeddedCheckMs(),
        TimeUnit.MILLISECONDS);
    return watchdog;
  }

  /** For /health: read from fields, no query, so it costs nothing and answers even when Postgres does not. */
  public JsonObject health() {
    return new JsonObject().put("embedded", true).put("state", state.name().toLowerCase(Locale.ROOT))
        .put("restarts", restarts).put("last_error", lastError);
  }

  public State state() {
    return state;
  }

  private void check() {
    try {
      if (state == State.RUNNING) {
        if (pg.isRunning()) {
          return;
        }
        died();
      }
      if (System.nanoTime() - nextAttemptAt >= 0) {
        attempt();
      }
    } catch (RuntimeException e) {
      // A task that throws is never scheduled again: the watchdog must outlive any one surprise.
      log.error("embedded Postgres watchdog check failed", e);
    }
  }

  private void died() {
    diedAt = System.nanoTime();
    nextAttemptAt = diedAt;
    attempts = 0;
    backoffMs = config.restartBackoffMs();
    lastError = "the server process exited";
    state = State.RESTARTING;
    log.warn("embedded Postgres on port {} died; restarting it", pg.port());
  }

  private void attempt() {
    attempts++;
    try {
      pg.startServer();
      restarts++;
      state = State.RUNNING;
      log.info("embedded Postgres restarted after {} attempt(s), {} ms down", attempts,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAt));
    } catch (IOException | RuntimeException e) {
      lastError = firstLine(e.getMessage());
      nextAttemptAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
      backoffMs = Math.min(backoffMs * 2, config.restartBackoffMaxMs());
      if (state == State.RESTARTING) {
        state = State.DOWN;
        log.warn("embedded Postgres did not restart ({}); retrying with backoff up to {} ms", lastError,
            config.restartBackoffMaxMs());
      }
    }
  }

  /** Stops watching; an attempt under way finishes first, so that the server can then be stopped. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      if (!thread.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
        log.warn("embedded Postgres watchdog still busy after {} s", CLOSE_WAIT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String firstLine(String message) {
    String text = String.valueOf(message).strip();
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end);
  }
}
