package io.keypulse.db;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/** Tells "Postgres is unreachable right now" (answer 503, try again) apart from real errors. */
public final class PgFailures {
  private PgFailures() {}

  public static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      // Any I/O failure on the way to Postgres (refused, reset, closed) means: not reachable now.
      if (t instanceof IOException || t instanceof ClosedConnectionException || t instanceof ConnectTimeoutException
          || t instanceof TimeoutException) {
        return true;
      }
      if (t instanceof PgException pg && pg.getSqlState() != null && unavailableState(pg.getSqlState())) {
        return true;
      }
      String message = String.valueOf(t.getMessage()).toLowerCase();
      if (message.contains("connection refused") || message.contains("timeout") || message.contains("closed")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The pool has no connection free and no room left in its wait queue: the node is overloaded
   * (answer 503 with Retry-After), not broken.
   */
  public static boolean busy(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage()).toLowerCase();
      if (message.contains("wait queue") || message.contains("max waiter")) {
        return true;
      }
    }
    return false;
  }

  /** 08: connection exception; 53: insufficient resources; 57P: shutdown in progress. */
  private static boolean unavailableState(String state) {
    return state.startsWith("08") || state.startsWith("53") || state.startsWith("57P");
  }
}
