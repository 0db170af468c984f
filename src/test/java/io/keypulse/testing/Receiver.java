package io.keypulse.testing;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A webhook receiver on loopback, written without Vert.x so that it shares nothing with the sender.
 * Records every request; answers 200 unless told otherwise for a path: a sequence of statuses
 * to answer first, or never to answer at all.
 */
public final class Receiver implements AutoCloseable {
  /** Status code that means: hold the request open and never answer. */
  public static final int HANG = -1;
  /** Status code that means: answer 200, then a body of a byte every 100 ms that never ends. */
  public static final int TRICKLE = -2;
  /** Status code that means: answer 200, then a body that never ends, as fast as the sender takes it. */
  public static final int FLOOD = -3;

  /** One request as it arrived. */
  public record Hit(String path, Headers headers, byte[] body, long arrivedNanos, long arrivedMillis) {
    public String header(String name) {
      return headers.getFirst(name);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonObject json() {
      return new JsonObject(text());
    }
  }

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<Hit> hits = new CopyOnWriteArrayList<>();
  private final Map<String, Deque<Integer>> scripts = new ConcurrentHashMap<>();
  private final Map<String, Integer> always = new ConcurrentHashMap<>();
  private final CountDownLatch closing = new CountDownLatch(1);
  private final Map<String, AtomicLong> bodyBytes = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> cutOff = new ConcurrentHashMap<>();
  private volatile long answerDelayMillis;

  public Receiver() {
    this(0);
  }

  /** On a given port (0: any free one), e.g. to come back where a dead receiver was. */
  public Receiver(int port) {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 512);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** Answers these statuses, in order, to the next requests on path; then 200 again. */
  public Receiver script(String path, Integer... statuses) {
    scripts.put(path, new ArrayDeque<>(List.of(statuses)));
    return this;
  }

  /** Answers this status (or {@link #HANG}) to every request on path. */
  public Receiver always(String path, int status) {
    always.put(path, status);
    return this;
  }

  /** Waits this long before answering any request (a slow receiver). */
  public Receiver answerDelay(long millis) {
    answerDelayMillis = millis;
    return this;
  }

  public List<Hit> hits() {
    return new ArrayList<>(hits);
  }

  public List<Hit> hits(String path) {
    return hits.stream().filter(h -> h.path().equals(path)).toList();
  }

  /** The hits on path matching the predicate, once there are at least n (or when time is up). */
  public List<Hit> await(String path, Predicate<Hit> which, int n, long timeoutMillis) {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      List<Hit> found = hits.stream().filter(h -> h.path().equals(path)).filter(which).toList();
      if (found.size() >= n || System.currentTimeMillis() > deadline) {
        return found;
      }
      Sleep.millis(20);
    }
  }

  /** Bytes of endless bodies ({@link #TRICKLE}, {@link #FLOOD}) written on path so far. */
  public long bodyBytes(String path) {
    return bodyBytes.computeIfAbsent(path, p -> new AtomicLong()).get();
  }

  /** Endless bodies on path that ended because the sender closed the connection. */
  public long cutOff(String path) {
    return cutOff.computeIfAbsent(path, p -> new AtomicLong()).get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    String path = exchange.getRequestURI().getRawPath();
    hits.add(new Hit(path, exchange.getRequestHeaders(), body, System.nanoTime(), System.currentTimeMillis()));
    Deque<Integer> script = scripts.get(path);
    Integer next = script == null ? null : script.poll();
    int status = next != null ? next : always.getOrDefault(path, 200);
    if (status == HANG) {
      try {
        closing.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.close();
      return;
    }
    if (status == TRICKLE || status == FLOOD) {
      endlessBody(exchange, path, status == FLOOD ? new byte[64 * 1024] : new byte[] {' '});
      return;
    }
    if (answerDelayMillis > 0) {
      Sleep.millis(answerDelayMillis);
    }
    byte[] answer = "{\"received\":true}".getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, answer.length);
    exchange.getResponseBody().write(answer);
    exchange.close();
  }

  private void endlessBody(HttpExchange exchange, String path, byte[] chunk) {
    AtomicLong written = bodyBytes.computeIfAbsent(path, p -> new AtomicLong());
    try {
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      while (closing.getCount() > 0) {
        out.write(chunk);
        out.flush();
        written.addAndGet(chunk.length);
        if (chunk.length == 1) {
          Sleep.millis(100);
        }
      }
    } catch (IOException closedBySender) {
      cutOff.computeIfAbsent(path, p -> new AtomicLong()).incrementAndGet();
    } finally {
      exchange.close();
    }
  }

  @Override
  public void close() {
    closing.countDown();
    server.stop(0);
    threads.shutdownNow();
  }
}
