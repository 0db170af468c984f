package io.keypulse.live;

import io.keypulse.api.EventJson;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSE connection. It listens first, then replays from Postgres what the client missed while
 * holding what arrives live meanwhile, then sends the held messages that the replay did not
 * already cover: no gap and no repeat at the seam. A reader too slow to keep up is disconnected
 * rather than buffered without bound; its browser reconnects with Last-Event-ID and replays.
 */
final class LiveStream {
  private static final Logger log = LoggerFactory.getLogger(LiveStream.class);
  private static final String SESSION_EXPIRED = new JsonObject().put("message", "session token expired: get a new "
      + "one from POST /api/v1/auth/token and reconnect with Last-Event-ID to resume").encode();

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final String partnerId;
  private final LiveStreams streams;
  private final Long expiresAt;
  private final ArrayDeque<JsonObject> seam = new ArrayDeque<>();
  /**
   * The newest ids the replay sent, kept a while after the seam: an event can be in Postgres (so
   * replayed) before its flush is released to the live feed (after the flushes ahead of it, and its
   * detection, at most detect.reply_timeout_ms), and must not be sent twice when it arrives.
   */
  private final Set<Long> replayedEvents = new LinkedHashSet<>();
  private final Set<Long> replayedAlerts = new LinkedHashSet<>();
  private static final long REPLAYED_KEPT_MILLIS = 60_000;
  private MessageConsumer<JsonObject> events;
  private MessageConsumer<JsonObject> alerts;
  private boolean replaying;
  private boolean closed;
  private int seamEvents;
  private long lastEventId;
  private long lastAlertId;
  private long heartbeat = -1;
  private long expiry = -1;
  private long forgetReplayed = -1;

  /** @param expiresAt when the session token the stream was opened with expires (epoch seconds), or null */
  LiveStream(Vertx vertx, HttpServerResponse response, String partnerId, Long expiresAt, LiveStreams streams) {
    this.vertx = vertx;
    this.response = response;
    this.partnerId = partnerId;
    this.expiresAt = expiresAt;
    this.streams = streams;
  }

  /**
   * Subscribes, answers 200, then replays from the cursor (when there is one) and goes live. Either
   * way live messages wait until the stream knows where it starts.
   */
  void start(Cursor cursor) {
    replaying = true;
    response.closeHandler(v -> close());
    response.exceptionHandler(e -> close());
    events = vertx.eventBus().consumer(Addresses.liveEvents(partnerId), msg -> onEvents(msg.body()));
    alerts = vertx.eventBus().consumer(Addresses.liveAlerts(partnerId), msg -> onAlert(msg.body()));
    // The 200 goes out once both subscriptions are known cluster-wide, and every node's answer to
    // "does anyone listen?" from before them has run out (LivePublisher): from then on nothing is missed.
    Future.join(events.completion(), alerts.completion()).onComplete(subscribed -> {
      if (subscribed.failed()) {
        close();
        streams.failed(response, subscribed.cause());
        return;
      }
      int wait = streams.config().listenerCacheMs();
      if (wait > 0) {
        vertx.setTimer(wait, id -> begin(cursor));
      } else {
        begin(cursor);
      }
    });
  }

  private void begin(Cursor cursor) {
    if (closed) {
      return;
    }
    response.setChunked(true).setWriteQueueMaxSize(streams.config().streamBufferBytes())
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache, no-store")
        .putHeader("X-Accel-Buffering", "no");
    write("retry: 3000\n: connected\n\n");
    heartbeat = vertx.setPeriodic(streams.config().heartbeatSeconds() * 1000L, id -> heartbeat());
    if (expiresAt != null) {
      expiry = vertx.setTimer(Math.max(1, expiresAt * 1000 - System.currentTimeMillis()), id -> expire());
    }
    if (cursor == null) {
      startFromNewest();
    } else {
      lastEventId = cursor.eventId();
      replayEvents(cursor);
    }
  }

  /**
   * A stream opened without a resume point replays nothing, but counts from the partner's newest
   * event and alert: an alert that arrives before any event then carries an id that resumes from
   * there, not from the partner's first event.
   */
  private void startFromNewest() {
    Future.all(streams.events().newestId(partnerId), streams.alerts().newestId(partnerId)).onComplete(newest -> {
      if (closed || newest.failed()) {
        dropOnFailure(newest.cause());
        return;
      }
      lastEventId = newest.result().<Long>resultAt(0);
      lastAlertId = newest.result().<Long>resultAt(1);
      endSeam();
    });
  }

  private void replayEvents(Cursor cursor) {
    int page = streams.config().replayPageSize();
    streams.events().after(partnerId, lastEventId, page).onComplete(result -> {
      if (closed || result.failed()) {
        dropOnFailure(result.cause());
        return;
      }
      List<StoredEvent> missed = result.result();
      missed.forEach(e -> {
        remember(replayedEvents, e.id());
        sendEvent(EventJson.of(e));
      });
      Runnable next = missed.size() == page ? () -> replayEvents(cursor) : () -> startAlertReplay(cursor);
      whenDrained(next);
    });
  }

  private void startAlertReplay(Cursor cursor) {
    Future<Long> from = cursor.alertId() != null ? Future.succeededFuture(cursor.alertId())
        : streams.alerts().lastAlertBefore(partnerId, cursor.eventId());
    from.onComplete(result -> {
      if (closed || result.failed()) {
        dropOnFailure(result.cause());
        return;
      }
      lastAlertId = result.result();
      replayAlerts();
    });
  }

  private void replayAlerts() {
    int page = streams.config().replayPageSize();
    streams.alerts().after(partnerId, lastAlertId, page).onComplete(result -> {
      if (closed || result.failed()) {
        dropOnFailure(result.cause());
        return;
      }
      result.result().forEach(a -> {
        remember(replayedAlerts, a.getLong("id"));
        sendAlert(a);
      });
      whenDrained(result.result().size() == page ? this::replayAlerts : this::endSeam);
    });
  }

  /** Sends what arrived live during the replay, minus what the replay already sent, then goes live. */
  private void endSeam() {
    while (!seam.isEmpty()) {
      JsonObject held = seam.poll();
      JsonArray batch = held.getJsonArray("events");
      if (batch == null) {
        if (!replayedAlerts.contains(held.getLong("id"))) {
          sendAlert(held);
        }
        continue;
      }
      batch.forEach(e -> {
        JsonObject event = (JsonObject) e;
        if (!replayedEvents.contains(event.getLong("id"))) {
          sendEvent(event);
        }
      });
    }
    replaying = false;
    if (!replayedEvents.isEmpty() || !replayedAlerts.isEmpty()) {
      forgetReplayed = vertx.setTimer(REPLAYED_KEPT_MILLIS, id -> {
        replayedEvents.clear();
        replayedAlerts.clear();
      });
    }
  }

  /** Keeps the newest ids only (they come in increasing order): as many as the seam may hold. */
  private void remember(Set<Long> replayed, long id) {
    replayed.add(id);
    if (replayed.size() > streams.config().seamBufferEvents()) {
      Iterator<Long> oldest = replayed.iterator();
      oldest.next();
      oldest.remove();
    }
  }

  private void onEvents(JsonObject body) {
    if (hold(body, body.getJsonArray("events").size()) || tooSlow()) {
      return;
    }
    body.getJsonArray("events").forEach(e -> {
      JsonObject event = (JsonObject) e;
      if (replayedEvents.isEmpty() || !replayedEvents.contains(event.getLong("id"))) {
        sendEvent(event);
      }
    });
  }

  private void onAlert(JsonObject alert) {
    if (hold(alert, 1) || tooSlow() || replayedAlerts.contains(alert.getLong("id"))) {
      return;
    }
    sendAlert(alert);
  }

  /** While replaying, live messages wait; if too many wait, the client is dropped to resume later. */
  private boolean hold(JsonObject message, int count) {
    if (closed) {
      return true;
    }
    if (!replaying) {
      return false;
    }
    seam.add(message);
    seamEvents += count;
    if (seamEvents > streams.config().seamBufferEvents()) {
      drop("fell behind while replaying");
    }
    return true;
  }

  /** Checked before writing more: a reader still holding a full buffer since the last message is dropped. */
  private boolean tooSlow() {
    if (response.writeQueueFull()) {
      drop("slow reader");
      return true;
    }
    return false;
  }

  private void sendEvent(JsonObject event) {
    lastEventId = event.getLong("id");
    write("event: event\nid: " + Cursor.eventId(lastEventId) + "\ndata: " + event.encode() + "\n\n");
  }

  private void sendAlert(JsonObject alert) {
    lastAlertId = alert.getLong("id");
    write("event: alert\nid: " + Cursor.alertId(lastEventId, lastAlertId) + "\ndata: " + alert.encode() + "\n\n");
  }

  private void heartbeat() {
    if (!response.writeQueueFull()) {
      write(": heartbeat\n\n");
    }
  }

  private void whenDrained(Runnable next) {
    if (closed) {
      return;
    }
    if (response.writeQueueFull()) {
      response.drainHandler(v -> {
        response.drainHandler(null);
        next.run();
      });
    } else {
      next.run();
    }
  }

  private void write(String text) {
    if (!closed) {
      response.write(text);
    }
  }

  private void dropOnFailure(Throwable cause) {
    if (!closed) {
      log.warn("live stream of {} could not replay ({}); the client will resume", partnerId, String.valueOf(cause));
      drop("replay failed");
    }
  }

  String partnerId() {
    return partnerId;
  }

  /** Ends the stream cleanly; the client may reconnect and resume. */
  void end() {
    if (!closed) {
      close();
      response.end();
    }
  }

  /**
   * A stream lasts no longer than the token it was opened with, as a bridge socket does. The last
   * event says why (it carries no id, so the client's resume point stays its last event or alert).
   */
  private void expire() {
    write("event: session_expired\ndata: " + SESSION_EXPIRED + "\n\n");
    end();
  }

  private void drop(String why) {
    streams.dropped(why);
    close();
    response.reset();
  }

  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    seam.clear();
    vertx.cancelTimer(heartbeat);
    vertx.cancelTimer(expiry);
    vertx.cancelTimer(forgetReplayed);
    events.unregister();
    alerts.unregister();
    streams.closed(this);
  }

}
