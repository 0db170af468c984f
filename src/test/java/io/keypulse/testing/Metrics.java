package io.keypulse.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading a node's /metrics (Prometheus text) in tests. */
public final class Metrics {
  private Metrics() {}

  /** Whether the text has at least one series of this metric. */
  public static boolean has(String prometheus, String name) {
    return series(prometheus, name).find();
  }

  /** The sum of the metric's series (one per tag set), 0 if it has none. */
  public static double sum(String prometheus, String name) {
    Matcher m = series(prometheus, name);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(2));
    }
    return sum;
  }

  private static Matcher series(String prometheus, String name) {
    return Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? ([0-9.E+-]+)$").matcher(prometheus);
  }
}
