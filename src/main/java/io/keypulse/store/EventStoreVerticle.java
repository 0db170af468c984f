package io.keypulse.store;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.Append;
import io.keypulse.bus.Appended;
import io.keypulse.bus.Committed;
import io.keypulse.bus.DeliveriesDue;
import io.keypulse.bus.Detected;
import io.keypulse.bus.EventFacts;
import io.keypulse.bus.IdempotencyClaim;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.RequestIds;
import io.keypulse.bus.RuleMatches;
import io.keypulse.bus.StoredEvent;
import io.keypulse.config.Config;
import io.keypulse.db.PgFailures;
import io.keypulse.detect.DerivedSeverity;
import io.keypulse.detect.DetectRouter;
import io.keypulse.idempotency.IdempotencyKeys;
import io.keypulse.ops.LogThrottle;
import io.keypulse.ops.Staggered;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event store's writer, one per node: gathers the events of concurrent ingest requests and
 * commits them together (group commit). A flush starts shortly after the first event arrives when
 * none is in flight; while one is, what arrives gathers into the next, which goes out the moment the
 * one in flight is released. Only when a full flush ({@code store.flush_max_events}) waits does
 * another go out before that, up to {@code store.flushes_in_flight}, on the writer's next connection
 * ({@code store.writers}): Postgres inserts their events side by side, and commits them in id order.
 * Every flush costs Postgres its fixed part (BEGIN, drawing ids, the wait, the statements' set-up,
 * COMMIT), so a few large flushes beat many small ones: measured side by side against sending a flush whenever there was room in flight, the
 * node spent 25-30 % less CPU per event and Postgres 32-43 % less (README, Benchmarks).
 *
 * <p>Every request is answered only after its flush committed, so a 2xx always means "in Postgres".
 * Flushes are released in the order they were sent, which is the order of their ids: a flush's
 * requests are answered, its events go to the detector shards (one message per shard) and to the
 * live feed, only once every flush sent before it has committed or failed. Requests that asked for
 * the detectors' findings (the reference dialect's alerts_triggered) are answered when those arrive.
 */
public final class EventStoreVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(EventStoreVerticle.class);
  /** A slow shard misses the reply of every flush at once: one line per interval says so. */
  private static final LogThrottle UNCONFIRMED = new LogThrottle(log);
  public static final int UNAVAILABLE = 503;
  public static final int CONFLICT = 409;

  /** requestId: from the message's headers, for the log lines and the messages this request causes. */
  private record Pending(Message<Append> request, List<NewEvent> events, String requestId) {}

  /** A flush sent to Postgres, and its outcome once it has one. */
  private static final class Flush {
    final List<Pending> group;
    AsyncResult<EventWriter.Flushed> outcome;

    Flush(List<Pending> group) {
      this.group = group;
    }
  }

  /** Arrival buckets older than this no longer count towards events_24h. */
  private static final String PRUNE_ARRIVALS =
      "DELETE FROM stats_arrivals WHERE minute < now() - interval '25 hours'";
  private static final long PRUNE_EVERY_MILLIS = 10 * 60_000;
  private static final long OUTAGE_LOG_EVERY_MILLIS = 10_000;

  /**
   * Rule matches the node's delivery actor did not take: back to the outbox, for any node to claim.
   * Locked in id order first, as every multi-row change of deliveries is (see delivery.Outbox).
   */
  private static final String RELEASE_MATCHES = """
      WITH held AS (SELECT id FROM deliveries WHERE id = ANY($1) AND claimed_by = $2 ORDER BY id FOR UPDATE)
      UPDATE deliveries d SET claimed_by = NULL, claim_until = NULL WHERE d.id = ANY(ARRAY(SELECT id FROM held))
      """;

  private final Config.Store config;
  private final String node;
  private final int leaseSeconds;
  private final Pool writePool;
  private final DetectRouter detectors;
  private final MeterRegistry metrics;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final DeliveryOptions localOnly = new DeliveryOptions().setLocalOnly(true);
  private EventWriter writer;
  private MessageConsumer<Append> consumer;
  /** The last flush handed to the live feed; the next waits for it. */
  private Future<Void> published = Future.succeededFuture();
  /** Sent and not yet released, in the order sent: the release watermark is its head. */
  private final ArrayDeque<Flush> inFlight = new ArrayDeque<>();
  /** Requests of a failed group still to be committed one by one, to find the one that failed it. */
  private int isolating;
  private int queuedEvents;
  private long timer = -1;
  private Promise<Void> drained;
  private DistributionSummary flushSizes;
  private Timer flushTimes;
  private long lastOutageLog;
  private long outageFailures;

  /**
   * @param node         the cluster member this store's rule matches are claimed for (its delivery actor's name)
   * @param leaseSeconds the delivery lease they are committed with
   */
  public EventStoreVerticle(Config.Store config, String node, int leaseSeconds, Pool writePool, DetectRouter detectors,
                            MeterRegistry metrics) {
    this.config = config;
    this.node = node;
    this.leaseSeconds = leaseSeconds;
    this.writePool = writePool;
    this.detectors = detectors;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    writer = new EventWriter(writePool, config.writers(), node, leaseSeconds);
    flushSizes = DistributionSummary.builder("keypulse.store.flush.events")
        .description("Events committed per group commit").publishPercentileHistogram().register(metrics);
    flushTimes = Timer.builder("keypulse.store.flush.duration")
        .description("Time to commit one group").publishPercentileHistogram().register(metrics);
    Gauge.builder("keypulse.store.queue.events", () -> queuedEvents)
        .description("Events waiting for a group commit").register(metrics);
    Gauge.builder("keypulse.store.flushes.in_flight", inFlight, ArrayDeque::size)
        .description("Group commits sent and not yet released").register(metrics);
    consumer = vertx.eventBus().localConsumer(Addresses.STORE_APPEND, this::onAppend);
    Staggered.every(vertx, PRUNE_EVERY_MILLIS, id -> writePool.query(PRUNE_ARRIVALS).execute()
        .onFailure(e -> log.warn("could not prune stats_arrivals: {}", e.toString())));
    return consumer.completion();
  }

  /** Stops taking requests, then commits everything already accepted before it returns. */
  @Override
  public Future<?> stop() {
    return consumer.unregister().compose(v -> {
      if (queue.isEmpty() && inFlight.isEmpty()) {
        return Future.succeededFuture();
      }
      drained = Promise.promise();
      flush();
      return drained.future();
    }).eventually(writer::close);
  }

  private void onAppend(Message<Append> request) {
    List<NewEvent> events = request.body().events();
    if (queuedEvents + events.size() > config.maxPendingEvents()) {
      request.fail(UNAVAILABLE, "ingest is saturated, retry shortly");
      return;
    }
    queue.add(new Pending(request, events, RequestIds.of(request.headers())));
    queuedEvents += events.size();
    if (queuedEvents >= config.flushMaxEvents()
        || (queuedEvents >= config.flushParallelMinEvents() && inFlight.size() < config.writers())) {
      flush();
    } else if (timer < 0 && inFlight.isEmpty()) {
      timer = vertx.setTimer(config.flushIntervalMs(), id -> {
        timer = -1;
        flush();
      });
    }
  }

  /**
   * Sends what waits: at once when nothing is in flight; beside flushes in flight, one of at least
   * {@code store.flush_parallel_min_events} while a writer connection is free, and full ones as long
   * as there is room. A smaller one waits for the flushes in flight to be released: flushes of a few
   * dozen events side by side cost more in their fixed parts than they gain (README, Benchmarks).
   */
  private void flush() {
    while (!queue.isEmpty() && (inFlight.isEmpty()
        || (inFlight.size() < config.writers() && queuedEvents >= config.flushParallelMinEvents())
        || (inFlight.size() < config.flushesInFlight() && queuedEvents >= config.flushMaxEvents()))) {
      send(takeGroup());
    }
  }

  private void send(List<Pending> group) {
    Flush flush = new Flush(group);
    inFlight.add(flush);
    List<NewEvent> events = new ArrayList<>();
    group.forEach(p -> events.addAll(p.events()));
    Timer.Sample sample = Timer.start();
    writer.append(events, claims(group)).onComplete(result -> {
      long nanos = sample.stop(flushTimes);
      if (log.isDebugEnabled()) {
        RequestIds.within(ids(group), () -> {
          log.debug("group commit of {} events for {} requests: {} in {} ms", events.size(), group.size(),
              result.succeeded() ? "committed" : "failed", nanos / 1_000_000);
        });
      }
      flushSizes.record(events.size());
      flush.outcome = result;
      release();
    });
  }

  /**
   * Releases the flushes at the head that have an outcome, in the order they were sent, which is the
   * order of their ids (EventWriter): answers of flushes on different connections may arrive in
   * another order.
   */
  private void release() {
    List<Flush> committed = new ArrayList<>(1);
    while (!inFlight.isEmpty() && inFlight.peek().outcome != null) {
      Flush done = inFlight.poll();
      if (done.outcome.succeeded()) {
        committed.add(done);
      } else {
        failed(done.group, done.outcome.cause());
      }
    }
    // The next flush goes out before these are answered and handed on: Postgres works on it meanwhile.
    flush();
    for (Flush done : committed) {
      deliver(done.group, done.outcome.result().stored());
      sendMatches(done.outcome.result(), done.group);
    }
    if (queue.isEmpty() && inFlight.isEmpty() && drained != null) {
      drained.complete();
    }
  }

  /** The Idempotency-Keys of the group's requests that carry one, with where their events sit. */
  private static List<EventWriter.Claimed> claims(List<Pending> group) {
    List<EventWriter.Claimed> claims = new ArrayList<>(0);
    int from = 0;
    for (Pending p : group) {
      IdempotencyClaim claim = p.request().body().claim();
      if (claim != null) {
        claims.add(new EventWriter.Claimed(claim, from, p.events().size()));
      }
      from += p.events().size();
    }
    return claims;
  }

  /**
   * Whole requests, up to flushMaxEvents events (always at least one request); a single request
   * while a failed group's requests are retried one by one.
   */
  private List<Pending> takeGroup() {
    List<Pending> group = new ArrayList<>();
    int size = 0;
    boolean alone = isolating > 0;
    if (alone) {
      isolating--;
    }
    while (!queue.isEmpty()
        && (group.isEmpty() || (!alone && size + queue.peek().events().size() <= config.flushMaxEvents()))) {
      Pending next = queue.poll();
      group.add(next);
      size += next.events().size();
    }
    queuedEvents -= size;
    return group;
  }

  /** Answers the requests of a committed flush, hands its events to the detectors, publishes them. */
  private void deliver(List<Pending> group, List<StoredEvent> stored) {
    List<String> requestOfEvent = new ArrayList<>(stored.size());
    for (Pending p : group) {
      for (int i = 0; i < p.events().size(); i++) {
        requestOfEvent.add(p.requestId());
      }
    }
    Future<Detected> detected = detectors.detect(stored.stream().map(EventFacts::of).toList(), requestOfEvent)
        .onFailure(e -> RequestIds.within(ids(group), () -> UNCONFIRMED.warn("unconfirmed",
            "detection of {} events not confirmed ({}); the scheduler will catch up", stored.size(), e.toString())));
    int from = 0;
    for (Pending p : group) {
      int start = from;
      int size = p.events().size();
      List<StoredEvent> mine = List.copyOf(stored.subList(start, start + size));
      from += size;
      if (!p.request().body().awaitDetection()) {
        p.request().reply(new Appended(mine, null), localOnly);
        continue;
      }
      detected.map(d -> new Detected(d.newAlerts().subList(start, start + size), d.scores().subList(start, start + size)))
          .otherwise(new Detected(Collections.nCopies(size, 0), Collections.nCopies(size, 0.0)))
          .onSuccess(mineDetected -> p.request().reply(new Appended(mine, mineDetected), localOnly));
    }
    // The live feed shows scores, so it hears of a flush once detection answered (or gave up); and
    // in commit order, which detection replies need not keep: a stream's Last-Event-ID means "all before".
    Future<List<StoredEvent>> scored = detected.map(d -> scored(stored, d.scores())).otherwise(stored);
    published = published.transform(previous -> scored).map(events -> {
      vertx.eventBus().publish(Addresses.EVENTS_COMMITTED, new Committed(events), localOnly);
      return null;
    });
  }

  /**
   * Hands the flush's rule matches, committed as this node's claims, to this node's delivery actor.
   * If it does not take them (it has stopped, or was never deployed), they go back to the outbox at
   * once and every node hears they are due, rather than waiting out the lease.
   */
  private void sendMatches(EventWriter.Flushed flushed, List<Pending> group) {
    if (flushed.matched().isEmpty()) {
      return;
    }
    List<String> requestOfEvent = new ArrayList<>(flushed.stored().size());
    for (Pending p : group) {
      for (int i = 0; i < p.events().size(); i++) {
        requestOfEvent.add(p.requestId());
      }
    }
    List<RuleMatches.Match> matches = new ArrayList<>(flushed.matched().size());
    for (EventWriter.Matched m : flushed.matched()) {
      matches.add(new RuleMatches.Match(flushed.stored().get(m.index()), m.rowId(), m.deliveryId(), m.ruleId(), m.url(),
          m.endpoint(), requestOfEvent.get(m.index())));
    }
    vertx.eventBus().request(Addresses.DELIVERIES_CLAIMED, new RuleMatches(matches), localOnly).onFailure(e -> {
      Long[] ids = matches.stream().map(RuleMatches.Match::rowId).toArray(Long[]::new);
      writePool.preparedQuery(RELEASE_MATCHES).execute(Tuple.of(ids, node))
          .onSuccess(released -> vertx.eventBus().publish(Addresses.DELIVERIES_DUE, new DeliveriesDue(ids.length)))
          .onFailure(again -> log.warn("{} rule-match webhooks wait for their claim to lapse ({} s): {}; {}", ids.length,
              leaseSeconds, e.toString(), again.toString()));
    });
  }

  /**
   * The events as detection left them in the store: scored, and an event ingested without a severity
   * with the one its score implies (the commit stored a placeholder "nominal").
   */
  private static List<StoredEvent> scored(List<StoredEvent> stored, List<Double> scores) {
    List<StoredEvent> out = new ArrayList<>(stored.size());
    for (int i = 0; i < stored.size(); i++) {
      StoredEvent e = stored.get(i);
      double score = scores.get(i);
      NewEvent event = e.event().severityDerived() ? e.event().withSeverity(DerivedSeverity.of(score)) : e.event();
      out.add(new StoredEvent(e.id(), event, score, e.occurredAt(), e.createdAt(), e.previousId(),
          e.ruleMatches()));
    }
    return out;
  }

  /**
   * Postgres down: every request of the group gets 503. Any other failure is an event we should
   * have refused; commit the requests one by one so that only the culprit fails.
   */
  private void failed(List<Pending> group, Throwable cause) {
    if (PgFailures.unavailable(cause)) {
      RequestIds.within(ids(group), () -> logOutage(cause));
      group.forEach(p -> p.request().fail(UNAVAILABLE, "database unavailable, retry shortly"));
    } else if (group.size() > 1) {
      RequestIds.within(ids(group), () -> log.warn("group commit failed ({}); retrying its {} requests one by one",
          cause.toString(), group.size()));
      for (int i = group.size() - 1; i >= 0; i--) {
        queue.addFirst(group.get(i));
        queuedEvents += group.get(i).events().size();
      }
      isolating += group.size();
    } else {
      refuse(group.get(0), cause);
    }
  }

  /** During an outage every flush fails; say so every few seconds, not thousands of times. */
  private void logOutage(Throwable cause) {
    outageFailures++;
    long now = System.currentTimeMillis();
    if (now - lastOutageLog >= OUTAGE_LOG_EVERY_MILLIS) {
      log.warn("Postgres unavailable, ingest answers 503 ({} failed flushes so far): {}", outageFailures, cause.toString());
      lastOutageLog = now;
    }
  }

  /**
   * A group's lines carry every request it serves (request_ids, the first as request_id): an operator
   * following one request finds the commit that stored it. Built only when a line is written.
   */
  private static String ids(List<Pending> group) {
    return RequestIds.join(group.stream().map(Pending::requestId).toList());
  }

  /**
   * One request's events could not be stored. Its Idempotency-Key committed meanwhile by another
   * node's request (keys in flight are tracked per node) is a conflict, not a fault: 409, nothing stored.
   */
  private static void refuse(Pending p, Throwable cause) {
    if (IdempotencyKeys.taken(cause)) {
      p.request().fail(CONFLICT, "a request with this Idempotency-Key is in flight; retry once it is answered");
      return;
    }
    RequestIds.within(p.requestId(), () -> log.error("could not store an event batch", cause));
    p.request().fail(500, "the event could not be stored");
  }
}
