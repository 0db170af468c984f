package io.keypulse.live;

import io.keypulse.api.EventJson;
import io.keypulse.api.Times;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.AlertRaised;
import io.keypulse.bus.Committed;
import io.keypulse.bus.LiveEvents;
import io.keypulse.bus.StoredEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One per node: turns what this node committed (its flushes, its shards' alerts) into the
 * partners' live feeds, cluster-wide, so a dashboard on any node sees events ingested on any
 * other. A flush becomes one message per partner in it, not one per event, and its JSON is built
 * only if someone listens ({@link LiveEvents}).
 *
 * <p>Most partners have no dashboard or stream open most of the time, and the clustered event bus
 * remembers only addresses that have listeners: a publish to one without asks Hazelcast again, on a
 * worker thread, every time. Per flush that was a fifth of the node's CPU at 1 000 single events a
 * second (README, Benchmarks). So the publisher looks a partner's listeners up itself, at most once per
 * {@code live.listener_cache_ms}, and skips the publish while the answer is "none". A listener that
 * subscribes meanwhile is therefore told nothing by the publishers that asked before it, until their
 * answer is that old (counted from when they asked); an SSE stream waits that long after subscribing
 * before it starts (see {@link LiveStream}), so it still misses nothing.
 */
public final class LivePublisher extends VerticleBase {
  /** Partners whose listeners are remembered; past it the memory starts over. */
  private static final int MAX_REMEMBERED = 100_000;

  /** Whether a partner's live events had listeners when asked, and until when that answer stands. */
  private record Listened(boolean any, long untilNanos) {}

  /** null: the node is not clustered, and a publish costs nothing when nobody listens. */
  private final ClusterManager cluster;
  private final long cacheNanos;
  /** Event-loop confined, like everything below. */
  private final Map<String, Listened> listened = new HashMap<>();
  private final Set<String> asking = new HashSet<>();
  private final Counter unheard;

  /**
   * @param cluster         where the event bus keeps its registrations (null: not clustered)
   * @param listenerCacheMs how long an answer to "does anyone listen?" stands; 0: never asked, always published
   */
  public LivePublisher(ClusterManager cluster, int listenerCacheMs, MeterRegistry metrics) {
    this.cluster = cluster;
    this.cacheNanos = listenerCacheMs * 1_000_000L;
    this.unheard = Counter.builder("keypulse.live.flushes.unheard")
        .description("A partner's share of a flush not published to the live feed: nobody listened").register(metrics);
  }

  @Override
  public Future<?> start() {
    return Future.join(
        vertx.eventBus().<Committed>localConsumer(Addresses.EVENTS_COMMITTED, msg -> publish(msg.body()))
            .completion(),
        vertx.eventBus().<AlertRaised>localConsumer(Addresses.ALERTS_RAISED, msg -> publish(msg.body()))
            .completion());
  }

  private void publish(Committed committed) {
    Map<String, List<StoredEvent>> byPartner = new LinkedHashMap<>();
    for (StoredEvent stored : committed.events()) {
      byPartner.computeIfAbsent(stored.event().partnerId(), p -> new ArrayList<>()).add(stored);
    }
    byPartner.forEach((partner, events) -> {
      if (mayListen(partner)) {
        vertx.eventBus().publish(Addresses.liveEvents(partner), new LiveEvents(events, EventJson::of));
      } else {
        unheard.increment();
      }
    });
  }

  /**
   * False only while a look-up that started less than the cache time ago found nobody. Until the
   * first answer comes, the flush is published as it always was.
   */
  private boolean mayListen(String partner) {
    if (cluster == null || cacheNanos <= 0) {
      return true;
    }
    long now = System.nanoTime();
    Listened known = listened.get(partner);
    if (known != null && now - known.untilNanos() < 0) {
      return known.any();
    }
    if (asking.add(partner)) {
      // The answer stands from when it was asked for, not from when it came: a listener that
      // subscribed during the look-up is within the time its stream waits out.
      cluster.getRegistrations(Addresses.liveEvents(partner), (registrations, failure) -> context.runOnContext(v -> {
        asking.remove(partner);
        if (failure == null) {
          if (listened.size() >= MAX_REMEMBERED) {
            listened.clear();
          }
          listened.put(partner, new Listened(!registrations.isEmpty(), now + cacheNanos));
        }
      }));
    }
    return true;
  }

  private void publish(AlertRaised alert) {
    vertx.eventBus().publish(Addresses.liveAlerts(alert.partnerId()), json(alert));
  }

  /** The shape of an alert in GET /api/alerts, as it is when just raised. */
  static JsonObject json(AlertRaised a) {
    return new JsonObject()
        .put("id", a.id())
        .put("key_id", a.keyId())
        .put("rule", a.rule())
        .put("kind", a.kind())
        .put("severity", a.severity())
        .put("description", a.description())
        .put("evidence", a.evidence())
        .put("status", "open")
        .put("repeat_count", a.repeatCount())
        .put("escalated_from", a.escalatedFrom())
        .put("event_id", a.eventId())
        .put("triggered_at", Times.iso(a.triggeredAt()))
        .put("created_at", Times.iso(a.createdAt()))
        .put("acked_at", null)
        .put("resolution", null)
        .put("note", null)
        .put("resolved_at", null);
  }
}
