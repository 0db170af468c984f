package io.keypulse.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * An SSE stream kept as the text that arrived, for tests about how values are spelled (a parsed
 * frame, as {@link SseClient} gives, would hide how a number was written).
 */
public final class RawSse implements AutoCloseable {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Stream<String> body;

  public RawSse(String url, String apiKey) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream")
        .header("X-API-Key", apiKey).build();
    try {
      HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(request,
          HttpResponse.BodyHandlers.ofLines());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("stream answered " + response.statusCode());
      }
      body = response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    Thread reader = new Thread(() -> {
      try {
        body.forEach(lines::add);
      } catch (RuntimeException e) {
        // the stream was closed
      }
    }, "raw-sse");
    reader.setDaemon(true);
    reader.start();
  }

  public String text() {
    return String.join("\n", lines);
  }

  /** Whether the text received so far satisfies done within the time given. */
  public boolean await(Predicate<String> done, long timeoutMillis) {
    return Sleep.poll(() -> done.test(text()) ? Boolean.TRUE : null, timeoutMillis) != null;
  }

  @Override
  public void close() {
    body.close();
  }
}
