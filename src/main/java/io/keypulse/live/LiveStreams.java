package io.keypulse.live;

import io.keypulse.api.HttpProblem;
import io.keypulse.config.Config;
import io.keypulse.detect.AlertQueries;
import io.keypulse.store.EventQueries;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GET /api/events/stream: a partner's events and alerts as Server-Sent Events. The resume point
 * comes from Last-Event-ID (what a browser sends back by itself) or ?since_id=.
 */
public final class LiveStreams {
  private static final Logger log = LoggerFactory.getLogger(LiveStreams.class);

  private final Config.Live config;
  private final EventQueries events;
  private final AlertQueries alerts;
  private final AtomicInteger open;
  private final LiveQuota quota;
  private final long refusalDelayMs;
  private final Counter dropped;
  /** This verticle's open streams by partner (event-loop confined), to end them when credentials change. */
  private final Map<String, Set<LiveStream>> byPartner = new HashMap<>();

  public LiveStreams(Config.Live config, EventQueries events, AlertQueries alerts, AtomicInteger open,
                     LiveQuota quota, long refusalDelayMs, MeterRegistry metrics) {
    this.refusalDelayMs = refusalDelayMs;
    this.config = config;
    this.events = events;
    this.alerts = alerts;
    this.open = open;
    this.quota = quota;
    this.dropped = Counter.builder("keypulse.live.streams.dropped")
        .description("SSE streams disconnected for reading too slowly (they resume)").register(metrics);
  }

  /** The gauge every HTTP verticle of a node counts its open streams into. */
  public static AtomicInteger openGauge(MeterRegistry metrics) {
    return metrics.gauge("keypulse.live.streams.open", new AtomicInteger());
  }

  /** @param expiresAt when the session token the stream opens with expires (epoch seconds); null for an API key */
  public void open(RoutingContext ctx, String partnerId, Long expiresAt) {
    String since = ctx.request().getParam("since_id");
    String text = since != null ? since : ctx.request().getHeader("Last-Event-ID");
    Cursor cursor = Cursor.parse(text);
    if (text != null && !text.isBlank() && cursor == null) {
      ctx.fail(HttpProblem.badRequest((since != null ? "since_id" : "Last-Event-ID")
          + " must be an event id, or <event id>:<alert id> as sent in a stream's id: lines"));
      return;
    }
    if (!quota.acquire(partnerId)) {
      ctx.fail(new HttpProblem(429, "too many live connections: at most " + quota.perPartner()
          + " per partner on a node; close one first", Map.of("Retry-After", "5")).delayed(refusalDelayMs));
      return;
    }
    open.incrementAndGet();
    LiveStream stream = new LiveStream(ctx.vertx(), ctx.response(), partnerId, expiresAt, this);
    byPartner.computeIfAbsent(partnerId, p -> new HashSet<>()).add(stream);
    stream.start(cursor);
  }

  /**
   * A key of the partner was revoked, or the partner suspended or re-planned: its streams end, and
   * those whose credential still holds come back (resuming where they were); the others cannot.
   */
  public void credentialsChanged(String partnerId) {
    Set<LiveStream> streams = byPartner.remove(partnerId);
    if (streams != null) {
      List.copyOf(streams).forEach(LiveStream::end);
    }
  }

  Config.Live config() {
    return config;
  }

  EventQueries events() {
    return events;
  }

  AlertQueries alerts() {
    return alerts;
  }

  void closed(LiveStream stream) {
    open.decrementAndGet();
    quota.release(stream.partnerId());
    Set<LiveStream> streams = byPartner.get(stream.partnerId());
    if (streams != null && streams.remove(stream) && streams.isEmpty()) {
      byPartner.remove(stream.partnerId());
    }
  }

  void dropped(String why) {
    dropped.increment();
    log.debug("live stream dropped: {}", why);
  }

  /** The subscription could not be made (event bus or cluster trouble): the client retries. */
  void failed(HttpServerResponse response, Throwable cause) {
    log.warn("live stream could not subscribe: {}", cause.toString());
    if (!response.headWritten()) {
      response.setStatusCode(503).putHeader("Retry-After", "2").putHeader("Content-Type", "application/json")
          .end("{\"success\":false,\"message\":\"live feed unavailable, retry shortly\"}");
    }
  }
}
