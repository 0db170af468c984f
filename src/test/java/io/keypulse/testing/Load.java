package io.keypulse.testing;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Concurrent single-event ingest for tests: each request carries a unique sequence number, and the
 * outcome of every request (status, or the transport error) is recorded for later checks.
 */
public final class Load {
  public record Outcome(long seq, int status, String retryAfter) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String url;
  private final String apiKey;
  private final LongFunction<JsonObject> body;
  private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
  private final AtomicLong seq = new AtomicLong();
  private final AtomicBoolean stopped = new AtomicBoolean();

  public Load(int port, String path, String apiKey, LongFunction<JsonObject> body) {
    this.url = "http://127.0.0.1:" + port + path;
    this.apiKey = apiKey;
    this.body = body;
  }

  /** Sends with at most {@code concurrency} requests in flight until {@link #stop()} or {@code max} requests. */
  public CompletableFuture<Void> run(int concurrency, long max) {
    return CompletableFuture.runAsync(() -> {
      Semaphore inFlight = new Semaphore(concurrency);
      while (!stopped.get() && seq.get() < max) {
        inFlight.acquireUninterruptibly();
        long n = seq.incrementAndGet();
        send(n).whenComplete((o, e) -> inFlight.release());
      }
      inFlight.acquireUninterruptibly(concurrency);
    });
  }

  public void stop() {
    stopped.set(true);
  }

  public List<Outcome> outcomes() {
    return List.copyOf(outcomes);
  }

  private CompletableFuture<Void> send(long n) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15))
        .header("Content-Type", "application/json").header("X-API-Key", apiKey)
        .POST(HttpRequest.BodyPublishers.ofString(body.apply(n).encode())).build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle((r, e) -> {
          outcomes.add(r == null ? new Outcome(n, -1, null)
              : new Outcome(n, r.statusCode(), r.headers().firstValue("Retry-After").orElse(null)));
          return null;
        });
  }
}
