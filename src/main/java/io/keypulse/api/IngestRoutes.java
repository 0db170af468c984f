package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.IdempotencyClaim;
import io.keypulse.bus.StoredEvent;
import io.keypulse.store.EventQueries;
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
  private final EventQueries queries;
  private final Idempotency idempotency;
  private final MeterRegistry metrics;

  IngestRoutes(EventStoreClient store, EventQueries queries, Idempotency idempotency, MeterRegistry metrics) {
    this.store = store;
    this.queries = queries;
    this.idempotency = idempotency;
    this.metrics = metrics;
  }

  /** Idempotency-Key for this dialect's route: a lost answer is rebuilt from the stored events. */
  Idempotency idempotency(Dialect dialect) {
    return idempotency.rebuilding((ctx, recorded) -> queries.recall(Caller.of(ctx).partnerId(), recorded.eventIds())
        .map(recalled -> {
          List<Double> scores = recalled.events().stream().map(e -> e.score() == null ? 0.0 : e.score()).toList();
          return Answer.json(recorded.status(), dialect.answer(JsonBodies.exactObject(ctx), recalled.events(),
              new Detected(recalled.alerts(), scores)));
        }));
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
      IdempotencyClaim claim = Idempotency.claim(ctx);
      store.append(parsed, dialect.waitsForDetection(), claim == null ? null : claim.answering(dialect.successStatus()),
              RequestTrail.of(ctx))
          .map(appended -> {
            List<StoredEvent> stored = appended.events();
            events.increment(stored.size());
            sample.stop(latency);
            Detected detected = appended.detected() != null ? appended.detected()
                : new Detected(Collections.nCopies(stored.size(), 0), Collections.nCopies(stored.size(), 0.0));
            return Answer.json(dialect.successStatus(), dialect.answer(body, stored, detected));
          })
          .compose(answer -> idempotency.remember(ctx, answer))
          .onSuccess(answer -> answer.send(ctx))
          .onFailure(ctx::fail);
    };
  }
}
