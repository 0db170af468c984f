package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.Append;
import io.keypulse.bus.Appended;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.RequestIds;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.List;

/** Hands events to this node's event store and waits for their commit (and, if asked, their detection). */
final class EventStoreClient {
  private final Vertx vertx;
  private final long timeoutMillis;

  EventStoreClient(Vertx vertx, int timeoutSeconds) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutSeconds * 1000L;
  }

  /** requestId goes along in the message's headers: the store's and detectors' lines about it carry it. */
  Future<Appended> append(List<NewEvent> events, boolean awaitDetection, String requestId) {
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutMillis);
    if (requestId != null) {
      options.addHeader(RequestIds.BUS_HEADER, requestId);
    }
    return vertx.eventBus().<Appended>request(Addresses.STORE_APPEND, new Append(events, awaitDetection), options)
        .map(reply -> reply.body());
  }
}
