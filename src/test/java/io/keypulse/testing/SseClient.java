package io.keypulse.testing;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A Server-Sent Events reader as a browser's EventSource is: it parses event/id/data frames as
 * they arrive, on a thread of its own, and remembers the last id for resuming.
 */
public final class SseClient implements AutoCloseable {
  /** One SSE message; receivedAt in System.nanoTime(). */
  public record Frame(String event, String id, JsonObject data, long receivedAt) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Frame> frames = new CopyOnWriteArrayList<>();
  private final int status;
  private final String body;
  private volatile boolean ended;
  private volatile boolean closed;
  private Thread reader;
  private HttpResponse<java.io.InputStream> response;

  /** Opens the stream; headers are name, value pairs (e.g. Last-Event-ID). Returns once answered. */
  public SseClient(String url, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("stream did not open: " + e, e);
    }
    status = response.statusCode();
    if (status != 200) {
      body = readAll();
      return;
    }
    body = null;
    reader = new Thread(this::read, "sse-client");
    reader.setDaemon(true);
    reader.start();
  }

  public int status() {
    return status;
  }

  /** The body of a refused stream (the JSON error). */
  public String errorBody() {
    return body;
  }

  public List<Frame> frames() {
    return List.copyOf(frames);
  }

  public List<Frame> frames(String event) {
    return frames.stream().filter(f -> f.event().equals(event)).toList();
  }

  public String lastId() {
    List<Frame> all = frames();
    return all.isEmpty() ? null : all.get(all.size() - 1).id();
  }

  /** True when the server ended or dropped the stream. */
  public boolean ended() {
    return ended;
  }

  /** Waits until some frame matches; null on timeout. */
  public Frame await(Predicate<Frame> match, long timeoutMillis) {
    return Sleep.poll(() -> frames.stream().filter(match).findFirst().orElse(null), timeoutMillis);
  }

  /** Waits until at least n frames of a kind arrived; returns them (maybe fewer on timeout). */
  public List<Frame> awaitCount(String event, int n, long timeoutMillis) {
    Sleep.poll(() -> frames(event).size() >= n ? true : null, timeoutMillis);
    return frames(event);
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String event = "message";
      String id = null;
      StringBuilder data = new StringBuilder();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) {
          if (data.length() > 0) {
            frames.add(new Frame(event, id, new JsonObject(data.toString()), System.nanoTime()));
          }
          event = "message";
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          event = line.substring(6).trim();
        } else if (line.startsWith("id:")) {
          id = line.substring(3).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        }
      }
    } catch (IOException e) {
      // closed by us or dropped by the server: either way the stream is over
    } finally {
      ended = true;
    }
  }

  private String readAll() {
    try (var in = response.body()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      response.body().close();
    } catch (IOException e) {
      // already closed
    }
    if (reader != null) {
      try {
        reader.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Event ids of the event frames, in arrival order. */
  public List<Long> eventIds() {
    List<Long> ids = new ArrayList<>();
    frames("event").forEach(f -> ids.add(f.data().getLong("id")));
    return ids;
  }
}
