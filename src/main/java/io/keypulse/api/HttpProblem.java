package io.keypulse.api;

import java.util.Map;

/** A failure with an HTTP status and a message fit for the partner; the failure handler renders it. */
public final class HttpProblem extends RuntimeException {
  private final int status;
  private final Map<String, String> headers;

  public HttpProblem(int status, String message, Map<String, String> headers) {
    super(message, null, false, false);
    this.status = status;
    this.headers = headers;
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
