package io.keypulse.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** The one ingest path: authenticated caller, a dialect's parse, group commit, the dialect's answer. */
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
      var body = JsonBodies.object(ctx);
      var parsed = dialect.events(body, Caller.of(ctx).partnerId());
      store.append(parsed)
          .onSuccess(stored -> {
            events.increment(stored.size());
            sample.stop(latency);
            ctx.response().setStatusCode(dialect.successStatus());
            ctx.json(dialect.answer(body, stored));
          })
          .onFailure(ctx::fail);
    };
  }
}
