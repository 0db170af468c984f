package io.keypulse.ops;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where a node's start-up time went, phase by phase, counted from the JVM's own start: the ready
 * line says how long the start took and, past {@link #SLOW_MILLIS}, what took it.
 */
public final class StartupTimes {
  /** The README promises a node ready within this long on an existing data directory. */
  public static final long SLOW_MILLIS = 3000;

  private final long start;
  private final Map<String, Long> phases = new LinkedHashMap<>();
  private long last;

  public StartupTimes() {
    this(ManagementFactory.getRuntimeMXBean().getStartTime());
  }

  /** startMillis: when the start began (epoch millis); the JVM's start unless a test says otherwise. */
  StartupTimes(long startMillis) {
    this.start = startMillis;
    this.last = startMillis;
  }

  /** The phase that ends now; it began where the previous one ended. */
  public void done(String phase) {
    long now = System.currentTimeMillis();
    phases.merge(phase, now - last, Long::sum);
    last = now;
  }

  public long totalMillis() {
    return last - start;
  }

  public Map<String, Long> phases() {
    return Map.copyOf(phases);
  }

  /** "started in 1.9 s", or past 3 s "started in 5.2 s, over 3.0 s: jvm and config 0.8 s, postgres 0.4 s, ...". */
  public String summary() {
    String total = seconds(totalMillis());
    if (totalMillis() <= SLOW_MILLIS) {
      return "started in " + total;
    }
    return "started in " + total + ", over " + seconds(SLOW_MILLIS) + ": " + phases.entrySet().stream()
        .map(p -> p.getKey() + " " + seconds(p.getValue())).collect(Collectors.joining(", "));
  }

  private static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
  }
}
