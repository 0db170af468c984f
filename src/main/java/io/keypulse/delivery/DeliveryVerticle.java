package io.keypulse.delivery;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.bus.DeliveriesDue;
import io.keypulse.bus.RequestIds;
import io.keypulse.bus.RuleMatches;
import io.keypulse.config.Config;
import io.keypulse.ops.Staggered;
import io.keypulse.partner.Partners;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends webhooks from the outbox, one per node. Rule matches ingested on this node arrive already
 * claimed, straight from the store's commit (their bodies built from the event in hand); for the
 * rest (alerts, retries, rows of other nodes' lapsed claims) it is woken when they are committed
 * (and polls anyway): claims due rows into a queue per endpoint (scheme://host:port), sends each signed body
 * to the address its URL was checked against, records attempts in batches, schedules retries with
 * backoff and jitter, fails after the last. At most webhook.per_endpoint_concurrency requests go to
 * one endpoint at a time and one endpoint may hold at most a quarter of the node's claims, so a slow
 * receiver holds back only its own deliveries; ingest never waits for any of this. Claims are
 * leases, renewed while held: if the node dies, another one takes its rows when the lease ends.
 */
public final class DeliveryVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DeliveryVerticle.class);
  private static final long DEPTH_EVERY_MILLIS = 5000;
  private static final long STOP_GRACE_MILLIS = 5000;
  private static final long RECORD_RETRY_MILLIS = 1000;
  /** Request ids remembered for rows not yet claimed; older ones are forgotten (their lines then lack the id). */
  private static final int MAX_REMEMBERED_REQUESTS = 10_000;

  /** Deliveries this node holds for one endpoint: waiting their turn, and being sent. */
  private static final class Endpoint {
    final ArrayDeque<Delivery> queue = new ArrayDeque<>();
    int sending;

    int held() {
      return queue.size() + sending;
    }
  }

  private final Config.Webhook config;
  private final Pool pool;
  private final Partners partners;
  private final String node;
  private final MeterRegistry metrics;
  private final Map<String, Endpoint> endpoints = new HashMap<>();
  /** Every delivery claimed and not yet recorded, by id: what the lease renewal covers. */
  private final Map<Long, Delivery> held = new HashMap<>();
  private final List<Outbox.Outcome> unrecorded = new ArrayList<>();
  /** Webhook URLs whose last attempt from this node failed. */
  private final Set<String> failing = new HashSet<>();
  private final AtomicLong depth = new AtomicLong();
  private final AtomicLong oldestSeconds = new AtomicLong();
  /** Event id -> the request that ingested it, as announced with rule matches: for this node's log lines. */
  private final Map<Long, String> requestOfEvent = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, String> eldest) {
      return size() > MAX_REMEMBERED_REQUESTS;
    }
  };
  private WebhookSender sender;
  private Outbox outbox;
  private int sending;
  private boolean claiming;
  private boolean again;
  private boolean moreDue;
  private Spacing claims;
  private boolean recording;
  private DistributionSummary recorded;
  private Spacing records;
  private boolean stopping;

  public DeliveryVerticle(Config.Webhook config, Pool pool, Partners partners, String node, MeterRegistry metrics) {
    this.config = config;
    this.pool = pool;
    this.partners = partners;
    this.node = node;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    sender = new WebhookSender(vertx, config, partners, metrics);
    outbox = new Outbox(pool, node);
    claims = new Spacing(config.claimIntervalMs(), this::poke);
    records = new Spacing(config.recordIntervalMs(), this::record);
    recorded = DistributionSummary.builder("keypulse.webhook.attempts.recorded")
        .description("Webhook attempts written per statement").register(metrics);
    Gauge.builder("keypulse.webhook.outbox.depth", depth, AtomicLong::get).description("Deliveries pending")
        .register(metrics);
    Gauge.builder("keypulse.webhook.outbox.oldest.seconds", oldestSeconds, AtomicLong::get)
        .description("Age of the oldest pending delivery").register(metrics);
    Staggered.every(vertx, config.pollMs(), id -> poke());
    Staggered.every(vertx, config.leaseSeconds() * 1000L / 3, id -> leases());
    Staggered.every(vertx, DEPTH_EVERY_MILLIS, id -> outbox.depth().onSuccess(d -> {
      depth.set(d.getLong("depth"));
      oldestSeconds.set(d.getDouble("oldest_seconds").longValue());
    }));
    return Future.join(
        vertx.eventBus().<DeliveriesDue>consumer(Addresses.DELIVERIES_DUE, msg -> {
          requestOfEvent.putAll(msg.body().requests());
          poke();
        }).completion(),
        vertx.eventBus().<RuleMatches>localConsumer(Addresses.DELIVERIES_CLAIMED, this::take).completion(),
        vertx.eventBus().<CredentialsChanged>consumer(Addresses.CREDENTIALS_CHANGED,
            msg -> sender.forgetSecret(msg.body().partnerId())).completion());
  }

  /**
   * Rule matches this node's store committed as this node's claims: sent from memory, with the body
   * built from the event as committed, within the same budget as claimed rows. What does not fit
   * (the node holds its maximum, or the endpoint its share) goes back to the outbox, due now, for
   * whichever node has room.
   */
  private void take(Message<RuleMatches> msg) {
    int perEndpoint = perEndpointShare();
    List<Long> surplus = new ArrayList<>();
    for (RuleMatches.Match m : msg.body().matches()) {
      Endpoint endpoint = endpoints.get(m.endpoint());
      if (stopping || held.size() >= config.maxHeld() || (endpoint != null && endpoint.held() >= perEndpoint)) {
        surplus.add(m.rowId());
        continue;
      }
      Delivery d = new Delivery(m.rowId(), m.deliveryId(), m.event().event().partnerId(), m.ruleId(), null,
          m.event().id(), "rule_match", m.url(), m.endpoint(), Payloads.ruleMatch(m.event(), m.ruleId()), 0, 0);
      if (m.requestId() != null) {
        requestOfEvent.put(m.event().id(), m.requestId());
      }
      held.put(d.id(), d);
      endpoints.computeIfAbsent(d.endpoint(), e -> new Endpoint()).queue.add(d);
    }
    msg.reply(null);
    sendWhatFits();
    if (!surplus.isEmpty()) {
      outbox.release(surplus.toArray(Long[]::new), 0).onComplete(released -> {
        if (released.failed()) {
          log.warn("{} webhooks wait for their claim to lapse: {}", surplus.size(), released.cause().toString());
        }
        vertx.eventBus().publish(Addresses.DELIVERIES_DUE, new DeliveriesDue(surplus.size()));
      });
    }
  }

  private int perEndpointShare() {
    return Math.max(config.perEndpointConcurrency(), config.maxHeld() / 4);
  }

  /**
   * Claims nothing more, hands back what is still queued, and gives attempts under way a few
   * seconds to finish and be recorded: one cut short is sent again once its lease runs out
   * (receivers deduplicate on X-KeyPulse-Delivery).
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    List<Long> queued = new ArrayList<>();
    endpoints.values().forEach(e -> e.queue.forEach(d -> queued.add(d.id())));
    endpoints.values().forEach(e -> e.queue.clear());
    queued.forEach(held::remove);
    Promise<Void> drained = Promise.promise();
    long giveUpAt = System.currentTimeMillis() + STOP_GRACE_MILLIS;
    record();
    vertx.setPeriodic(0, 50, id -> {
      boolean idle = sending == 0 && !claiming && unrecorded.isEmpty() && !recording;
      if (idle || System.currentTimeMillis() > giveUpAt) {
        vertx.cancelTimer(id);
        if (!idle) {
          log.warn("stopping with {} webhook attempts unfinished and {} unrecorded; they are resent after their lease",
              sending, unrecorded.size());
        }
        drained.complete();
      }
    });
    return outbox.release(queued.toArray(Long[]::new), 0).recover(e -> Future.succeededFuture())
        .compose(released -> drained.future()).andThen(done -> sender.close());
  }

  /** Keeps this node's claims alive, and frees those of nodes that stopped keeping theirs. */
  private void leases() {
    outbox.renew(held.keySet().toArray(Long[]::new), config.leaseSeconds())
        .onFailure(e -> log.warn("could not renew webhook claims: {}", e.toString()));
    outbox.reap().onSuccess(n -> {
      if (n > 0) {
        log.info("took back {} webhook deliveries claimed by a node that stopped renewing them", n);
        poke();
      }
    });
  }

  /** After a send or a record: claim again only if the last claim suggested more was waiting. */
  private void pokeIfMoreDue() {
    if (moreDue) {
      poke();
    }
  }

  /**
   * Claims what is due, as far as this node's budget allows; runs again if asked meanwhile. Claims
   * are at least claim_interval_ms apart: every commit announces new deliveries, and one claim per
   * commit would keep a database connection busy doing nothing but claim a row or two at a time.
   */
  private void poke() {
    int room = config.maxHeld() - held.size();
    if (stopping) {
      return;
    }
    if (claiming || room <= 0) {
      again = true;
      return;
    }
    if (!claims.now(false)) {
      return;
    }
    claiming = true;
    again = false;
    int perEndpoint = perEndpointShare();
    List<String> full = endpoints.entrySet().stream().filter(e -> e.getValue().held() >= perEndpoint)
        .map(Map.Entry::getKey).toList();
    outbox.claim(room, config.leaseSeconds(), full, perEndpoint)
        .compose(claimed -> outbox.withPayloads(claimed).onFailure(e -> outbox.release(
            claimed.stream().map(Delivery::id).toArray(Long[]::new), 1)))
        .onComplete(result -> {
          claiming = false;
          if (result.failed()) {
            log.warn("could not claim deliveries: {}", result.cause().toString());
            return;
          }
          for (Delivery d : result.result()) {
            held.put(d.id(), d);
            endpoints.computeIfAbsent(d.endpoint(), e -> new Endpoint()).queue.add(d);
          }
          sendWhatFits();
          // A full claim, or an endpoint at its share, means rows may be left: look again as room frees up.
          moreDue = result.result().size() == room
              || endpoints.values().stream().anyMatch(e -> e.held() >= perEndpoint);
          if (again) {
            poke();
          }
        });
  }

  /** Starts sends while the node and each endpoint have room, oldest claims first within an endpoint. */
  private void sendWhatFits() {
    for (var it = endpoints.entrySet().iterator(); it.hasNext() && sending < config.maxInFlight(); ) {
      Endpoint endpoint = it.next().getValue();
      while (endpoint.sending < config.perEndpointConcurrency() && sending < config.maxInFlight()
          && !endpoint.queue.isEmpty()) {
        send(endpoint, endpoint.queue.poll());
      }
      if (endpoint.held() == 0) {
        it.remove();
      }
    }
  }

  private void send(Endpoint endpoint, Delivery d) {
    endpoint.sending++;
    sending++;
    sender.attempt(d).onComplete(done -> {
      // The endpoint's slot is free as soon as it has answered; recording happens in batches.
      endpoint.sending--;
      sending--;
      Outbox.Outcome outcome = done.result();
      if (log.isDebugEnabled()) {
        logAttempt(d, outcome);
      }
      unrecorded.add(outcome);
      noteHealth(d.url(), "delivered".equals(outcome.status()));
      if ("pending".equals(outcome.status())) {
        // Look again when it falls due rather than at the next poll, so retries keep their spacing.
        vertx.setTimer(Math.max(1, Duration.between(Instant.now(), outcome.next()).toMillis() + 1), id -> poke());
      }
      record();
      sendWhatFits();
      pokeIfMoreDue();
    });
  }

  private void logAttempt(Delivery d, Outbox.Outcome outcome) {
    String requestId = d.eventId() != null ? requestOfEvent.get(d.eventId()) : null;
    RequestIds.within(requestId, () -> {
      log.debug("webhook {} ({}) to {}: attempt {}, {}", d.deliveryId(), d.event(), d.url(), d.attempts() + 1,
          outcome.status());
    });
  }

  /**
   * A URL that answers again after failing gets its backlog now, not at each delivery's next backoff
   * step: after an outage, recovery takes as long as the first success, not the longest wait. Per
   * URL, not per scheme://host:port: another path on the same host answering says nothing about
   * this one (a /fail beside a healthy /ok had its retries fired early).
   */
  private void noteHealth(String url, boolean delivered) {
    if (!delivered) {
      failing.add(url);
    } else if (failing.remove(url)) {
      outbox.expedite(url).onSuccess(n -> {
        if (n > 0) {
          log.info("{} answers again: {} deliveries waiting for a retry are due now", url, n);
          poke();
        }
      });
    }
  }

  /**
   * Writes finished attempts, one statement per batch: those that finish while a batch is being
   * written, or within {@code webhook.record_interval_ms} of its start, go into the next. Until
   * written, a delivery stays claimed by this node. At 1 000 webhooks a second, writing each batch
   * as soon as the one before was written made batches of ~4 and cost Postgres ~390 µs of CPU per
   * webhook, more than the rest of its delivery.
   */
  private void record() {
    if (recording || unrecorded.isEmpty() || !records.now(stopping || unrecorded.size() >= config.maxHeld() / 4)) {
      return;
    }
    recording = true;
    List<Outbox.Outcome> batch = new ArrayList<>(unrecorded);
    unrecorded.clear();
    outbox.record(batch).onComplete(result -> {
      recording = false;
      if (result.succeeded()) {
        recorded.record(batch.size());
        batch.forEach(o -> held.remove(o.delivery().id()));
        pokeIfMoreDue();
      } else {
        log.warn("could not record {} webhook attempts, retrying in {} ms: {}", batch.size(), RECORD_RETRY_MILLIS,
            result.cause().toString());
        unrecorded.addAll(0, batch);
        vertx.setTimer(RECORD_RETRY_MILLIS, id -> record());
        return;
      }
      record();
    });
  }

  /**
   * Keeps the runs of an action at least an interval apart: asked too early, it says not yet and
   * calls the action back (once, however often it was asked) when the interval is up.
   */
  private final class Spacing {
    private final long intervalMillis;
    private final Runnable action;
    private long lastMillis;
    private boolean armed;

    Spacing(long intervalMillis, Runnable action) {
      this.intervalMillis = intervalMillis;
      this.action = action;
    }

    /** Whether the action may run now (counted as run from here); {@code anyway}: yes, whatever the interval. */
    boolean now(boolean anyway) {
      long wait = lastMillis + intervalMillis - System.currentTimeMillis();
      if (wait > 0 && !anyway) {
        if (!armed) {
          armed = true;
          vertx.setTimer(wait, id -> {
            armed = false;
            action.run();
          });
        }
        return false;
      }
      lastMillis = System.currentTimeMillis();
      return true;
    }
  }
}
