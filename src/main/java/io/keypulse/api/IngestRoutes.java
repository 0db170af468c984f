package io.keypulse.api;

import io.keypulse.bus.EventFacts;
import io.keypulse.detect.DetectRouter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one ingest path: authenticated caller, a dialect's parse, group commit, then the events go to
 * their detector shards, and the dialect's answer. The reference dialect waits for the shards to
 * report alerts_triggered (up to detect.reply_timeout_ms; past that the event is still stored and
 * detected, and the answer says 0); the partner dialect answers 202 at once.
 */
final class IngestRoutes {
  private static final Logger log = LoggerFactory.getLogger(IngestRoutes.class);
  private final EventStoreClient store;
  private final DetectRouter detectors;
  private final MeterRegistry metrics;

  IngestRoutes(EventStoreClient store, DetectRouter detectors, MeterRegistry metrics) {
    this.store = store;
    this.detectors = detectors;
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
          .compose(stored -> {
            events.increment(stored.size());
            sample.stop(latency);
            Future<List<Integer>> detected = detectors.detect(stored.stream().map(EventFacts::of).toList())
                .onFailure(e -> log.warn("detection of {} events not confirmed: {}", stored.size(), e.toString()));
            List<Integer> none = Collections.nCopies(stored.size(), 0);
            return dialect.waitsForDetection()
                ? detected.otherwise(none).map(counts -> dialect.answer(body, stored, counts))
                : Future.succeededFuture(dialect.answer(body, stored, none));
          })
          .onSuccess(answer -> {
            ctx.response().setStatusCode(dialect.successStatus());
            ctx.json(answer);
          })
          .onFailure(ctx::fail);
    };
  }
}
