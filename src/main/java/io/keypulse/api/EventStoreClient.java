package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.Append;
import io.keypulse.bus.Appended;
import io.keypulse.bus.IdempotencyClaim;
import io.keypulse.bus.NewEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.List;

/** Hands events to this node's event store and waits for their commit (and, if asked, their detection). */
final class EventStoreClient {
  private final Vertx vertx;
  private final DeliveryOptions options;

  EventStoreClient(Vertx vertx, int timeoutSeconds) {
    this.vertx = vertx;
    this.options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutSeconds * 1000L);
  }

  /** @param claim the request's Idempotency-Key, to commit with its events (null: none) */
  Future<Appended> append(List<NewEvent> events, boolean awaitDetection, IdempotencyClaim claim) {
    return vertx.eventBus().<Appended>request(Addresses.STORE_APPEND, new Append(events, awaitDetection, claim), options)
        .map(reply -> reply.body());
  }
}
