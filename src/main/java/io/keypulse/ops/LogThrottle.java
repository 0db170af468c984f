package io.keypulse.ops;

import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * One log line per kind per interval: a flood of refusals or failures must not become a flood of
 * log lines (or fill the disk). The line after a quiet spell says how many were left out.
 */
public final class LogThrottle {
  private static final long INTERVAL_MILLIS = 10_000;

  private record Window(long start, int suppressed) {}

  private final Logger log;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  public LogThrottle(Logger log) {
    this.log = log;
  }

  public void warn(String kind, String format, Object... args) {
    int suppressed = admit(kind);
    if (suppressed >= 0) {
      log.warn(format + suffix(suppressed), args);
    }
  }

  public void info(String kind, String format, Object... args) {
    int suppressed = admit(kind);
    if (suppressed >= 0) {
      log.info(format + suffix(suppressed), args);
    }
  }

  public void error(String kind, String format, Object... args) {
    int suppressed = admit(kind);
    if (suppressed >= 0) {
      log.error(format + suffix(suppressed), args);
    }
  }

  /** Whether a line of this kind may be written now (for callers that log it themselves). */
  public boolean admitTrace(String kind) {
    return admit(kind) >= 0;
  }

  /** How many lines of this kind were left out since the last one written, or -1 to leave this one out. */
  private int admit(String kind) {
    long now = System.currentTimeMillis();
    int[] out = new int[1];
    windows.compute(kind, (k, w) -> {
      if (w == null || now - w.start() >= INTERVAL_MILLIS) {
        out[0] = w == null ? 0 : w.suppressed();
        return new Window(now, 0);
      }
      out[0] = -1;
      return new Window(w.start(), w.suppressed() + 1);
    });
    return out[0];
  }

  private static String suffix(int suppressed) {
    return suppressed > 0 ? " (" + suppressed + " more like it in the previous interval)" : "";
  }
}
