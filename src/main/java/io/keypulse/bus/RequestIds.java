package io.keypulse.bus;

import io.vertx.core.MultiMap;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.MDC;

/**
 * The id that follows one HTTP request through the node: answered as X-Request-Id, carried in the
 * event-bus headers of the messages the request causes, and put in the SLF4J MDC around the lines
 * logged on its behalf. Handlers run on shared event loops, so the MDC is set around a handler's
 * synchronous part (or a log call) and restored after it: it never leaks into the next message.
 * A line about a batch serving several requests (a group commit, a detector message) carries the
 * first id as request_id and all of them, up to {@value #MAX_LISTED}, as request_ids.
 */
public final class RequestIds {
  public static final String HTTP_HEADER = "X-Request-Id";
  /** Event-bus header: the ids of the requests a message serves, comma-separated. */
  public static final String BUS_HEADER = "keypulse-request-ids";
  public static final String MDC_KEY = "request_id";
  public static final String MDC_LIST_KEY = "request_ids";
  static final int MAX_LENGTH = 64;
  static final int MAX_LISTED = 100;
  private static final HexFormat HEX = HexFormat.of();

  private RequestIds() {}

  /**
   * The client's id when it is short and plain (1..64 printable ASCII characters, no space or comma:
   * it goes into headers, log lines and a comma-separated list), else a new one.
   */
  public static String accept(String offered) {
    if (offered == null || offered.isEmpty() || offered.length() > MAX_LENGTH) {
      return newId();
    }
    for (int i = 0; i < offered.length(); i++) {
      char c = offered.charAt(i);
      if (c <= ' ' || c > '~' || c == ',') {
        return newId();
      }
    }
    return offered;
  }

  /** 64 random bits in hex: unique enough to find a request's lines, and no SecureRandom on the hot path. */
  public static String newId() {
    return HEX.toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  /**
   * The ids of a batch for a bus header: consecutive repeats collapsed (a request's events sit together),
   * at most {@value #MAX_LISTED}; null when there are none.
   */
  public static String join(List<String> ids) {
    StringBuilder out = new StringBuilder();
    String last = null;
    int listed = 0;
    for (String id : ids) {
      if (id == null || id.equals(last)) {
        continue;
      }
      last = id;
      if (listed++ == MAX_LISTED) {
        break;
      }
      if (out.length() > 0) {
        out.append(',');
      }
      out.append(id);
    }
    return out.length() == 0 ? null : out.toString();
  }

  /** The ids a message carries (null when it carries none). */
  public static String of(MultiMap headers) {
    return headers == null ? null : headers.get(BUS_HEADER);
  }

  /**
   * Runs the action with the ids in the MDC (one request's id, or a batch's comma-separated ids), then
   * puts back what was there: a nested call (a failure handler inside the request's chain) leaves the
   * outer id in place, and nothing outlives the action on a shared event loop.
   */
  public static void within(String ids, Runnable action) {
    if (ids == null) {
      action.run();
      return;
    }
    int comma = ids.indexOf(',');
    String previousId = MDC.get(MDC_KEY);
    String previousList = MDC.get(MDC_LIST_KEY);
    MDC.put(MDC_KEY, comma < 0 ? ids : ids.substring(0, comma));
    if (comma >= 0) {
      MDC.put(MDC_LIST_KEY, ids);
    }
    try {
      action.run();
    } finally {
      restore(MDC_KEY, previousId);
      restore(MDC_LIST_KEY, previousList);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
