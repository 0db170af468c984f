package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.StoredEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Collections;
import java.util.List;

/**
 * The one ingest path: authenticated caller, a dialect's parse, group commit (after which the store
 * hands the events to their detector shards), and the dialect's answer. The reference dialect waits
 * for the shards to report alerts_triggered (up to detect.reply_timeout_ms; past that the event is
 * still stored and detected, and the answer says 0); the partner dialect answers 202 at once.
 */
final class IngestRoutes {
  private final EventStoreClient store;
  private final MeterRegistry metrics;

  IngestRoutes(EventStoreClient store, MeterRegistry metrics) {
    this.store = store;
    this.metrics = metrics;
  }

  Handler<RoutingContext> handler(Dialect dialect, String name) {
    Counter events = Counter.builder("keypulse.ingest.events").tag("dialect", name)
        .description("Events committed through the ingest API").register(metrics);
    Timer latency = Timer.builder("keypulse.ingest.latency").tag("dialect", name)
        .description("Ingest request time, from body read to commit").publishPercentileHistogram().register(metrics);
    return ctx -> {
      Timer.Sample sample = Timer.start();
      var body = JsonBodies.exactObject(ctx);
      var parsed = dialect.events(body, Caller.of(ctx).partnerId());
      store.append(parsed, dialect.waitsForDetection(), RequestTrail.of(ctx))
          .map(appended -> {
            List<StoredEvent> stored = appended.events();
            events.increment(stored.size());
            sample.stop(latency);
            Detected detected = appended.detected() != null ? appended.detected()
                : new Detected(Collections.nCopies(stored.size(), 0), Collections.nCopies(stored.size(), 0.0));
            return dialect.answer(body, stored, detected);
          })
          .onSuccess(answer -> {
            ctx.response().setStatusCode(dialect.successStatus());
            ctx.json(answer);
          })
          .onFailure(ctx::fail);
    };
  }
}
