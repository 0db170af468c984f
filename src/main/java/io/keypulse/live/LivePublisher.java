package io.keypulse.live;

import io.keypulse.api.EventJson;
import io.keypulse.api.Times;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.AlertRaised;
import io.keypulse.bus.Committed;
import io.keypulse.bus.LiveEvents;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One per node: turns what this node committed (its flushes, its shards' alerts) into the
 * partners' live feeds, cluster-wide, so a dashboard on any node sees events ingested on any
 * other. A flush becomes one message per partner in it, not one per event, and its JSON is built
 * only if someone listens ({@link LiveEvents}).
 */
public final class LivePublisher extends VerticleBase {

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
    byPartner.forEach((partner, events) ->
        vertx.eventBus().publish(Addresses.liveEvents(partner), new LiveEvents(events, EventJson::of)));
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
