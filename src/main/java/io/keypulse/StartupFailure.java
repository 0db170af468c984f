package io.keypulse;

import io.keypulse.config.Config;
import java.net.BindException;
import java.net.ConnectException;

/**
 * A start that cannot go on, said in one line that names the setting or flag to change. Thrown
 * where the cause is known (a refused join, a port taken); {@link #explain} turns anything else
 * thrown during a start into such a line, so an operator never has to read a stack trace to learn
 * that a port is taken.
 */
public final class StartupFailure extends RuntimeException {

  public StartupFailure(String message) {
    super(message, null, false, false);
  }

  public StartupFailure(String message, Throwable cause) {
    super(message, cause, false, false);
  }

  /** The one line for a failed start; config may be null (the configuration itself was refused). */
  public static String explain(Throwable failure, Config config) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof StartupFailure) {
        return t.getMessage();
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (message.contains("already in use and auto-increment is disabled") && config != null) {
        return "cluster port " + config.cluster().host() + ":" + config.cluster().port() + " is in use by another process: "
            + "choose another with --cluster-port N (cluster.port, KEYPULSE_CLUSTER_PORT)";
      }
      if (t instanceof BindException && config != null) {
        return "an address this node listens on is in use (" + message + "): HTTP --port " + config.http().port()
            + ", event bus --eventbus-port " + config.cluster().eventbusPort();
      }
      if (t instanceof ConnectException && config != null && !config.pg().embedded()) {
        return "cannot reach Postgres (" + message + "): check --pg URL (pg.url, KEYPULSE_PG_URL)";
      }
      if (message.startsWith("Postgres did not start") || message.contains("postgres.lock")) {
        return message + (config == null ? "" : " (data directory: --data-dir " + config.dataDir() + ")");
      }
    }
    Throwable root = failure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return "could not start: " + firstLine(message);
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end);
  }
}
