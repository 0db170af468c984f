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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends webhooks from the outbox, one per node. Woken when deliveries are committed (and polls
 * anyway): claims due rows, sends each signed body to the address its URL was checked against,
 * records every attempt, schedules retries with backoff and jitter, fails after the last. At most
 * webhook.per_endpoint_concurrency requests go to one endpoint at a time, so a slow receiver holds
 * back only its own deliveries; ingest never waits for any of this.
 */
public final class DeliveryVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DeliveryVerticle.class);
  private static final double BUSY_ENDPOINT_RETRY_SECONDS = 0.2;
  private static final long DEPTH_EVERY_MILLIS = 5000;
  private static final long STOP_GRACE_MILLIS = 5000;
  /** Test sends report their first attempt and are not retried. */
  private static final String TEST = "test";

  private final Config.Webhook config;
  private final Pool pool;
  private final Partners partners;
  private final String node;
  private final MeterRegistry metrics;
  private final Map<String, Integer> perEndpoint = new HashMap<>();
  private final Map<String, String> secrets = new HashMap<>();
  private final AtomicLong depth = new AtomicLong();
  private final AtomicLong oldestSeconds = new AtomicLong();
  private WebhookTargets targets;
  private Outbox outbox;
  private WebClient client;
  private Timer latency;
  private int inFlight;
  private boolean claiming;
  private boolean again;
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
    targets = new WebhookTargets(vertx, config.allowedCidrs());
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
   * Claims nothing more and gives attempts under way a few seconds to be recorded: one cut short
   * is sent again once its lease runs out (receivers deduplicate on X-KeyPulse-Delivery).
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    Promise<Void> drained = Promise.promise();
    long giveUpAt = System.currentTimeMillis() + STOP_GRACE_MILLIS;
    vertx.setPeriodic(0, 50, id -> {
      if ((inFlight == 0 && !claiming) || System.currentTimeMillis() > giveUpAt) {
        vertx.cancelTimer(id);
        if (inFlight > 0) {
          log.warn("stopping with {} webhook attempts unfinished; they are resent after their lease", inFlight);
        }
        drained.complete();
      }
    });
    return drained.future().andThen(done -> client.close());
  }

  /** Claims what is due, as far as the in-flight budget allows; runs again if asked meanwhile. */
  private void poke() {
    int room = config.maxInFlight() - inFlight;
    if (stopping) {
      return;
    }
    if (claiming || room <= 0) {
      again = true;
      return;
    }
    claiming = true;
    again = false;
    List<String> busy = perEndpoint.entrySet().stream().filter(e -> e.getValue() >= config.perEndpointConcurrency())
        .map(Map.Entry::getKey).toList();
    outbox.claim(room, config.leaseSeconds(), busy, config.perEndpointConcurrency()).compose(outbox::withPayloads).onComplete(result -> {
      claiming = false;
      if (result.succeeded()) {
        result.result().forEach(this::dispatch);
        if (again || result.result().size() == room) {
          poke();
        }
      } else {
        log.warn("could not claim deliveries: {}", result.cause().toString());
      }
    });
  }

  private void dispatch(Delivery d) {
    String endpoint = d.endpoint();
    if (perEndpoint.getOrDefault(endpoint, 0) >= config.perEndpointConcurrency()) {
      outbox.release(d, BUSY_ENDPOINT_RETRY_SECONDS);
      return;
    }
    perEndpoint.merge(endpoint, 1, Integer::sum);
    inFlight++;
    attempt(d).onComplete(done -> {
      inFlight--;
      perEndpoint.merge(endpoint, -1, Integer::sum);
      perEndpoint.remove(endpoint, 0);
      poke();
    });
  }

  /** One attempt: check the target, sign, send, record. Failures of the receiver are data, not errors. */
  private Future<Void> attempt(Delivery d) {
    int number = d.attempts() + 1;
    Instant at = Instant.now();
    long began = System.nanoTime();
    return targets.check(d.url())
        .compose(target -> secret(d.partnerId()).compose(secret -> send(d, target, secret)))
        .transform(result -> {
          long millis = (System.nanoTime() - began) / 1_000_000;
          latency.record(Duration.ofMillis(millis));
          if (result.succeeded()) {
            int code = result.result();
            boolean ok = code >= 200 && code < 300;
            return finish(d, new Outbox.Attempt(number, at, code, millis, ok ? null : "HTTP " + code), ok, false);
          }
          Throwable cause = result.cause();
          boolean refused = cause instanceof IllegalArgumentException;
          return finish(d, new Outbox.Attempt(number, at, null, millis, describe(cause)), false, refused);
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
  private Future<Void> finish(Delivery d, Outbox.Attempt attempt, boolean delivered, boolean refused) {
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
    Counter.builder("keypulse.webhook.deliveries").tag("outcome", status.equals("pending") ? "retrying" : status)
        .description("Webhook attempts by outcome: delivered, retrying, failed").register(metrics).increment();
    return outbox.record(d, attempt, status, next)
        .onFailure(e -> log.warn("could not record delivery {} attempt {}: {}", d.id(), attempt.number(), e.toString()));
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
