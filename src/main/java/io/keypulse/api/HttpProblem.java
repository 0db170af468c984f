package io.keypulse.api;

import java.util.Map;

/** A failure with an HTTP status and a message fit for the partner; the failure handler renders it. */
public final class HttpProblem extends RuntimeException {
  private final int status;
  private final Map<String, String> headers;
  private final long delayMillis;

  public HttpProblem(int status, String message, Map<String, String> headers) {
    this(status, message, headers, 0);
  }

  private HttpProblem(int status, String message, Map<String, String> headers, long delayMillis) {
    super(message, null, false, false);
    this.status = status;
    this.headers = headers;
    this.delayMillis = delayMillis;
  }

  /**
   * The same answer, sent only after this long: a client that keeps sending past its budget waits
   * for each refusal, so its flood costs the node a timer per connection instead of a core.
   */
  public HttpProblem delayed(long millis) {
    return new HttpProblem(status, getMessage(), headers, millis);
  }

  public long delayMillis() {
    return delayMillis;
  }

  public HttpProblem(int status, String message) {
    this(status, message, Map.of());
  }

  public static HttpProblem badRequest(String message) {
    return new HttpProblem(400, message);
  }

  public static HttpProblem notFound(String message) {
    return new HttpProblem(404, message);
  }

  public static HttpProblem unavailable(String message) {
    return new HttpProblem(503, message, Map.of("Retry-After", "2"));
  }

  public int status() {
    return status;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
