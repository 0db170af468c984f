package io.keypulse.delivery;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.config.Config;
import io.keypulse.partner.Partners;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends webhooks from the outbox, one per node. Woken when deliveries are committed (and polls
 * anyway): claims due rows into a queue per endpoint (scheme://host:port), sends each signed body
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
  /** Test sends report their first attempt and are not retried. */
  private static final String TEST = "test";

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
  private final Map<String, String> secrets = new HashMap<>();
  /** Endpoints whose last attempt from this node failed. */
  private final Set<String> failing = new HashSet<>();
  private final Map<String, Counter> outcomes = new HashMap<>();
  private final AtomicLong depth = new AtomicLong();
  private final AtomicLong oldestSeconds = new AtomicLong();
  private WebhookTargets targets;
  private Outbox outbox;
  private WebClient client;
  private Timer latency;
  private int sending;
  private boolean claiming;
  private boolean again;
  private boolean moreDue;
  private long lastClaimMillis;
  private boolean claimTimerSet;
  private boolean recording;
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
    targets = new WebhookTargets(vertx, config.allowedCidrs(), config.resolveCacheSeconds());
    outbox = new Outbox(pool, node);
    client = WebClient.create(vertx, new WebClientOptions().setFollowRedirects(false).setKeepAlive(true)
        .setConnectTimeout(config.timeoutMs()).setUserAgent("KeyPulse-Webhooks/1"),
        new PoolOptions().setHttp1MaxSize(config.perEndpointConcurrency()));
    latency = Timer.builder("keypulse.webhook.attempt.duration").description("Webhook attempts, request to answer")
        .publishPercentileHistogram().register(metrics);
    Gauge.builder("keypulse.webhook.outbox.depth", depth, AtomicLong::get).description("Deliveries pending")
        .register(metrics);
    Gauge.builder("keypulse.webhook.outbox.oldest.seconds", oldestSeconds, AtomicLong::get)
        .description("Age of the oldest pending delivery").register(metrics);
    vertx.setPeriodic(config.pollMs(), id -> poke());
    vertx.setPeriodic(config.leaseSeconds() * 1000L / 3, id -> leases());
    vertx.setPeriodic(DEPTH_EVERY_MILLIS, id -> outbox.depth().onSuccess(d -> {
      depth.set(d.getLong("depth"));
      oldestSeconds.set(d.getDouble("oldest_seconds").longValue());
    }));
    return Future.join(
        vertx.eventBus().consumer(Addresses.DELIVERIES_DUE, msg -> poke()).completion(),
        vertx.eventBus().<CredentialsChanged>consumer(Addresses.CREDENTIALS_CHANGED,
            msg -> secrets.remove(msg.body().partnerId())).completion());
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
        .compose(released -> drained.future()).andThen(done -> client.close());
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
    long wait = lastClaimMillis + config.claimIntervalMs() - System.currentTimeMillis();
    if (wait > 0) {
      if (!claimTimerSet) {
        claimTimerSet = true;
        vertx.setTimer(wait, id -> {
          claimTimerSet = false;
          poke();
        });
      }
      return;
    }
    lastClaimMillis = System.currentTimeMillis();
    claiming = true;
    again = false;
    int perEndpoint = Math.max(config.perEndpointConcurrency(), config.maxHeld() / 4);
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
    attempt(d).onComplete(done -> {
      // The endpoint's slot is free as soon as it has answered; recording happens in batches.
      endpoint.sending--;
      sending--;
      unrecorded.add(done.result());
      noteHealth(d.endpoint(), "delivered".equals(done.result().status()));
      record();
      sendWhatFits();
      pokeIfMoreDue();
    });
  }

  /**
   * An endpoint that answers again after failing gets its backlog now, not at each delivery's next
   * backoff step: after an outage, recovery takes as long as the first success, not the longest wait.
   */
  private void noteHealth(String endpoint, boolean delivered) {
    if (!delivered) {
      failing.add(endpoint);
    } else if (failing.remove(endpoint)) {
      outbox.expedite(endpoint).onSuccess(n -> {
        if (n > 0) {
          log.info("{} answers again: {} deliveries waiting for a retry are due now", endpoint, n);
          poke();
        }
      });
    }
  }

  /** One attempt: check the target, sign, send. Failures of the receiver are data, never errors. */
  private Future<Outbox.Outcome> attempt(Delivery d) {
    int number = d.attempts() + 1;
    Instant at = Instant.now();
    long began = System.nanoTime();
    return targets.check(d.url())
        .compose(target -> secret(d.partnerId()).compose(secret -> send(d, target, secret)))
        .transform(result -> {
          long millis = (System.nanoTime() - began) / 1_000_000;
          latency.record(Duration.ofNanos(System.nanoTime() - began));
          if (result.succeeded()) {
            int code = result.result();
            boolean ok = code >= 200 && code < 300;
            return Future.succeededFuture(
                outcome(d, new Outbox.Attempt(number, at, code, millis, ok ? null : "HTTP " + code), ok, false));
          }
          Throwable cause = result.cause();
          boolean refused = cause instanceof IllegalArgumentException;
          return Future.succeededFuture(
              outcome(d, new Outbox.Attempt(number, at, null, millis, describe(cause)), false, refused));
        });
  }

  private Future<Integer> send(Delivery d, WebhookTargets.Target target, String secret) {
    byte[] body = d.payload().getBytes(StandardCharsets.UTF_8);
    String path = target.uri().getRawPath() == null || target.uri().getRawPath().isEmpty() ? "/" : target.uri().getRawPath();
    String uri = target.uri().getRawQuery() == null ? path : path + "?" + target.uri().getRawQuery();
    return client.request(HttpMethod.POST, SocketAddress.inetSocketAddress(target.port(),
            target.address().getHostAddress()), target.port(), target.host(), uri)
        .ssl(target.https()).followRedirects(false).timeout(config.timeoutMs())
        .putHeader("Content-Type", "application/json")
        .putHeader("X-KeyPulse-Signature", Signer.sign(secret, body))
        .putHeader("X-KeyPulse-Timestamp", Long.toString(Instant.now().getEpochSecond()))
        .putHeader("X-KeyPulse-Delivery", d.deliveryId())
        .putHeader("X-KeyPulse-Event", d.eventHeader())
        .sendBuffer(Buffer.buffer(body))
        .map(response -> response.statusCode());
  }

  /** Delivered, retried later (1 s, 4 s, 16 s by default, with jitter), or failed for good. */
  private Outbox.Outcome outcome(Delivery d, Outbox.Attempt attempt, boolean delivered, boolean refused) {
    List<Long> delays = config.retryDelaysMs();
    int retriesUsed = attempt.number() - d.attemptBase() - 1;
    String status;
    Instant next = attempt.at();
    if (delivered) {
      status = "delivered";
    } else if (refused || TEST.equals(d.event()) || retriesUsed >= delays.size()) {
      status = "failed";
    } else {
      status = "pending";
      long delay = delays.get(retriesUsed);
      long jitter = delay * config.jitterPct() / 100;
      long wait = delay + (jitter == 0 ? 0 : ThreadLocalRandom.current().nextLong(-jitter, jitter + 1));
      next = Instant.now().plusMillis(wait);
      // Look again when it falls due rather than at the next poll, so retries keep their spacing.
      vertx.setTimer(wait + 1, id -> poke());
    }
    outcomes.computeIfAbsent(status, s -> Counter.builder("keypulse.webhook.deliveries")
        .tag("outcome", s.equals("pending") ? "retrying" : s)
        .description("Webhook attempts by outcome: delivered, retrying, failed").register(metrics)).increment();
    return new Outbox.Outcome(d, attempt, status, next);
  }

  /**
   * Writes finished attempts, one statement per batch: those that finish while a batch is being
   * written go into the next. Until written, a delivery stays claimed by this node.
   */
  private void record() {
    if (recording || unrecorded.isEmpty()) {
      return;
    }
    recording = true;
    List<Outbox.Outcome> batch = new ArrayList<>(unrecorded);
    unrecorded.clear();
    outbox.record(batch).onComplete(result -> {
      recording = false;
      if (result.succeeded()) {
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

  private Future<String> secret(String partnerId) {
    String known = secrets.get(partnerId);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    return partners.webhookSecret(partnerId).map(found -> {
      String secret = found.orElseThrow(() -> new IllegalStateException("partner " + partnerId + " is gone"));
      secrets.put(partnerId, secret);
      return secret;
    });
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return message.length() > 300 ? message.substring(0, 300) : message;
  }
}
