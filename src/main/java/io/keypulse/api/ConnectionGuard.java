package io.keypulse.api;

import io.keypulse.config.Config;
import io.keypulse.ops.LogThrottle;
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
 * answered 408 first, an upload that does not fit in memory 503 with Retry-After (see {@link BodyReader});
 * a request answered before its body was read (a held connection's too) closes once its client stops sending
 * (see {@link Watch#linger}).
 * Vert.x's idle timeout covers a connection on which nothing moves at all.
 */
public final class ConnectionGuard {
  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  // A fine sweep spreads the closing of connections that fell due together (thousands of slowloris
  // sockets opened within seconds) over many small batches rather than one per second.
  private static final long SWEEP_MILLIS = 250;

  private final Config.Http config;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicLong uploadBytes = new AtomicLong();
  private final LogThrottle refusals = new LogThrottle(log);

  public ConnectionGuard(Config.Http config) {
    this.config = config;
  }

  /** What becomes of a new connection. */
  enum Admission { ADMITTED, ADDRESS_FULL, NODE_FULL }

  /**
   * Counts a new connection in. One past the address's cap is still counted (it holds a socket)
   * but is only held, unread, until it is closed (see {@link Watch}); one past the node's cap is not.
   */
  Admission admit(String address) {
    if (open.incrementAndGet() > config.maxConnections()) {
      open.decrementAndGet();
      refusals.warn("node-connections", "connection refused: the node holds http.max_connections ({}) already",
          config.maxConnections());
      return Admission.NODE_FULL;
    }
    boolean[] taken = new boolean[1];
    perAddress.compute(address, (a, n) -> {
      int count = n == null ? 0 : n;
      taken[0] = count < config.maxConnectionsPerIp();
      return taken[0] ? count + 1 : n;
    });
    if (!taken[0]) {
      refusals.warn("address-connections", "connection held and closed: {} holds http.max_connections_per_ip ({})"
          + " already", address, config.maxConnectionsPerIp());
      return Admission.ADDRESS_FULL;
    }
    return Admission.ADMITTED;
  }

  void release(String address, boolean countedForAddress) {
    open.decrementAndGet();
    if (countedForAddress) {
      perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }
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

  /** The deadlines of one HTTP verticle instance's connections: event-loop confined, swept every 250 ms. */
  Watch watch(Vertx vertx) {
    return new Watch(vertx);
  }

  final class Watch {
    /** A connection, its client, the request in progress (or null between requests) and its deadline. */
    private static final class Tracked {
      final String address;
      /** Past its address's cap: its requests are never read, and it closes at its deadline. */
      final boolean held;
      HttpServerRequest request;
      long deadline;
      /** Answered before its body was read; the body is being dropped (see {@link #linger}). */
      boolean lingering;
      long lastRead;
      long dropped;

      Tracked(String address, boolean held, long deadline) {
        this.address = address;
        this.held = held;
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

    /**
     * Closing a connection past its address's cap at once would invite the client to reconnect in a
     * tight loop (an accept storm costs more than an idle socket): it is held unread for the header
     * timeout, then closed.
     */
    Handler<HttpConnection> connections() {
      return conn -> {
        String address = ClientAddress.of(conn.remoteAddress());
        Admission admission = admit(address);
        if (admission == Admission.NODE_FULL) {
          conn.close();
          return;
        }
        boolean held = admission == Admission.ADDRESS_FULL;
        tracked.put(conn, new Tracked(address, held, System.currentTimeMillis() + config.headerTimeoutSeconds() * 1000L));
        conn.closeHandler(v -> {
          if (tracked.remove(conn) != null) {
            release(address, !held);
          }
        });
      };
    }

    /**
     * A request's headers arrived: its body (if any) is now due within the body timeout. False for
     * a request on a held connection: it is left unanswered and unread until the connection closes.
     */
    boolean request(HttpServerRequest request) {
      Tracked t = tracked.get(request.connection());
      if (t == null) {
        return true;
      }
      if (t.held) {
        // Answered at the connection's deadline (503, then closed): the client waits, unread.
        request.pause();
        t.request = request;
        return false;
      }
      t.request = request;
      t.deadline = System.currentTimeMillis() + config.bodyTimeoutSeconds() * 1000L;
      return true;
    }

    private void sweep(long now) {
      List<HttpConnection> late = new ArrayList<>();
      List<HttpConnection> lingered = new ArrayList<>();
      tracked.forEach((conn, t) -> {
        HttpServerRequest request = t.request;
        if (t.held) {
          if (t.lingering) {
            if (now > t.deadline || linger(t, conn, now)) {
              lingered.add(conn);
            }
          } else if (now > t.deadline) {
            if (request != null && !request.response().headWritten()) {
              request.response().setStatusCode(503).putHeader("Retry-After", "5")
                  .putHeader("Content-Type", "application/json").putHeader("Connection", "close")
                  .end("{\"success\":false,\"message\":\"too many connections from this address\"}");
              if (request.isEnded()) {
                late.add(conn);
              } else {
                // Its body, unread so far, is read and dropped as for any request answered early.
                t.deadline = now + config.bodyTimeoutSeconds() * 1000L;
                linger(t, conn, now);
              }
            } else {
              late.add(conn);
            }
          }
          return;
        }
        if (request == null) {
          if (now > t.deadline) {
            late.add(conn);
          }
          return;
        }
        HttpServerResponse response = request.response();
        if (!request.isEnded()) {
          if (now > t.deadline) {
            if (!response.headWritten()) {
              response.setStatusCode(408).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
                  .end("{\"success\":false,\"message\":\"request body not received in time\"}");
            }
            late.add(conn);
          } else if (response.ended() && linger(t, conn, now)) {
            lingered.add(conn);
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
      lingered.forEach(HttpConnection::close);
    }

    /**
     * A request answered before its body was read (refused, or failed) cannot carry another: its
     * answer says Connection: close. Closing at once while the client is still sending would make
     * its TCP answer the rest with a reset, and many clients then report a network error rather than
     * the answer they were sent (RFC 9112, section 9.6). So the rest of the body is read and dropped
     * (nothing is kept) until it ends, pauses for http.linger_ms, passes http.linger_max_bytes or
     * runs past the body deadline; then the connection closes. True when its time is up.
     */
    private boolean linger(Tracked t, HttpConnection conn, long now) {
      if (t.lingering) {
        return now - t.lastRead > config.lingerMs();
      }
      t.lingering = true;
      t.lastRead = now;
      HttpServerRequest request = t.request;
      request.handler(chunk -> {
        t.lastRead = System.currentTimeMillis();
        t.dropped += chunk.length();
        if (t.dropped > config.lingerMaxBytes()) {
          conn.close();
        }
      });
      request.exceptionHandler(e -> conn.close());
      request.endHandler(v -> conn.close());
      request.resume();
      return false;
    }

    void stop() {
      vertx.cancelTimer(timer);
    }
  }
}
