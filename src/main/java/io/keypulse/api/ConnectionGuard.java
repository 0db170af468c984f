package io.keypulse.api;

import io.keypulse.config.Config;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's bounds on what clients can hold without doing any work, shared by its HTTP verticle
 * instances: open connections (per node and per client address), the time a connection may take to
 * send a request's headers and then its body, and the request bodies held in memory at once.
 * A connection past a bound is closed (there is no request to answer yet); a body that is late is
 * answered 408 first, an upload that does not fit in memory 503 with Retry-After (see {@link BodyReader}).
 * Vert.x's idle timeout covers a connection on which nothing moves at all.
 */
public final class ConnectionGuard {
  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final long SWEEP_MILLIS = 1000;

  private final Config.Http config;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicLong uploadBytes = new AtomicLong();
  private final LogThrottle refusals = new LogThrottle(log);

  public ConnectionGuard(Config.Http config) {
    this.config = config;
  }

  /** Counts a new connection in; false (and not counted) when the node or the address holds enough. */
  boolean admit(String address) {
    if (open.incrementAndGet() > config.maxConnections()) {
      open.decrementAndGet();
      refusals.warn("node-connections", "connection refused: the node holds http.max_connections ({}) already",
          config.maxConnections());
      return false;
    }
    boolean[] taken = new boolean[1];
    perAddress.compute(address, (a, n) -> {
      int count = n == null ? 0 : n;
      taken[0] = count < config.maxConnectionsPerIp();
      return taken[0] ? count + 1 : n;
    });
    if (!taken[0]) {
      open.decrementAndGet();
      refusals.warn("address-connections", "connection refused: {} holds http.max_connections_per_ip ({}) already",
          address, config.maxConnectionsPerIp());
    }
    return taken[0];
  }

  void release(String address) {
    open.decrementAndGet();
    perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
  }

  int openConnections() {
    return open.get();
  }

  /** Reserves memory for a request body about to be read; false when the node's upload memory is spent. */
  boolean reserveUpload(long bytes) {
    if (uploadBytes.addAndGet(bytes) > config.uploadMemoryBytes()) {
      uploadBytes.addAndGet(-bytes);
      refusals.warn("upload-memory", "upload refused with 503: bodies being read hold http.upload_memory_bytes ({})",
          config.uploadMemoryBytes());
      return false;
    }
    return true;
  }

  void releaseUpload(long bytes) {
    uploadBytes.addAndGet(-bytes);
  }

  /** The deadlines of one HTTP verticle instance's connections: event-loop confined, swept every second. */
  Watch watch(Vertx vertx) {
    return new Watch(vertx);
  }

  final class Watch {
    /** A connection, its client, the request in progress (or null between requests) and its deadline. */
    private static final class Tracked {
      final String address;
      HttpServerRequest request;
      long deadline;

      Tracked(String address, long deadline) {
        this.address = address;
        this.deadline = deadline;
      }
    }

    private final Vertx vertx;
    private final Map<HttpConnection, Tracked> tracked = new HashMap<>();
    private final long timer;

    private Watch(Vertx vertx) {
      this.vertx = vertx;
      this.timer = vertx.setPeriodic(SWEEP_MILLIS, id -> sweep(System.currentTimeMillis()));
    }

    Handler<HttpConnection> connections() {
      return conn -> {
        String address = conn.remoteAddress() == null ? "unknown" : conn.remoteAddress().hostAddress();
        if (!admit(address)) {
          conn.close();
          return;
        }
        tracked.put(conn, new Tracked(address, System.currentTimeMillis() + config.headerTimeoutSeconds() * 1000L));
        conn.closeHandler(v -> {
          if (tracked.remove(conn) != null) {
            release(address);
          }
        });
      };
    }

    /** A request's headers arrived: its body (if any) is now due within the body timeout. */
    void request(HttpServerRequest request) {
      Tracked t = tracked.get(request.connection());
      if (t != null) {
        t.request = request;
        t.deadline = System.currentTimeMillis() + config.bodyTimeoutSeconds() * 1000L;
      }
    }

    private void sweep(long now) {
      List<HttpConnection> late = new ArrayList<>();
      tracked.forEach((conn, t) -> {
        HttpServerRequest request = t.request;
        if (request == null) {
          if (now > t.deadline) {
            late.add(conn);
          }
          return;
        }
        HttpServerResponse response = request.response();
        if (!request.isEnded()) {
          // Answered before its body was read (refused, or an error): the body never will be.
          if (response.ended() || now > t.deadline) {
            if (!response.headWritten()) {
              response.setStatusCode(408).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
                  .end("{\"success\":false,\"message\":\"request body not received in time\"}");
            }
            late.add(conn);
          }
        } else if (response.ended()) {
          // Between requests on a kept-alive connection: the idle timeout governs.
          t.request = null;
          t.deadline = now + config.idleTimeoutSeconds() * 1000L;
        }
      });
      if (!late.isEmpty()) {
        refusals.info("late", "closed {} connections that sent no request headers, or no body, in time", late.size());
        late.forEach(HttpConnection::close);
      }
    }

    void stop() {
      vertx.cancelTimer(timer);
    }
  }
}
