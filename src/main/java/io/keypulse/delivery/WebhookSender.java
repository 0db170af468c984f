package io.keypulse.delivery;

import io.keypulse.config.Config;
import io.keypulse.partner.Partners;
import io.keypulse.partner.WebhookSecrets;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;

/**
 * One webhook attempt, start to verdict: the target checked (SSRF rules, pinned address), the body
 * signed with the partner's secret (X-KeyPulse-* and Standard Webhooks headers), sent, and the
 * outcome decided (delivered, retry when, failed).
 * The delivery actor decides what to send and records what came of it; this does the sending.
 */
final class WebhookSender {
  /** Test sends report their first attempt and are not retried. */
  private static final String TEST = "test";
  /** A receiver's answer is not used: at most this much of its body is read, then the connection is closed. */
  private static final int MAX_ANSWER_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final Config.Webhook config;
  private final Partners partners;
  private final WebhookTargets targets;
  private final HttpClient client;
  private final MeterRegistry metrics;
  private final Timer latency;
  private final Map<String, WebhookSecrets> secrets = new HashMap<>();
  private final Map<String, Counter> outcomes = new HashMap<>();

  WebhookSender(Vertx vertx, Config.Webhook config, Partners partners, MeterRegistry metrics) {
    this.vertx = vertx;
    this.config = config;
    this.partners = partners;
    this.metrics = metrics;
    this.targets = new WebhookTargets(vertx, config.allowedCidrs(), config.resolveCacheSeconds());
    // The core client, not WebClient: WebClient keeps a receiver's whole answer in memory, however
    // long, and its timeout is an idle one, which a receiver trickling its answer never trips.
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
        .setConnectTimeout(config.timeoutMs()), new PoolOptions().setHttp1MaxSize(config.perEndpointConcurrency()));
    this.latency = Timer.builder("keypulse.webhook.attempt.duration").description("Webhook attempts, request to answer")
        .publishPercentileHistogram().register(metrics);
  }

  void close() {
    client.close();
  }

  /** The partner's secret changed (rotation) or its credentials did: read it again next time. */
  void forgetSecret(String partnerId) {
    secrets.remove(partnerId);
  }

  /** One attempt: check the target, sign, send. Failures of the receiver are data, never errors. */
  Future<Outbox.Outcome> attempt(Delivery d) {
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

  /**
   * webhook-id is the delivery id, so it stays the same across retries and replays (receivers
   * deduplicate on it); the timestamp and both signatures are made afresh for each attempt.
   */
  private Future<Integer> send(Delivery d, WebhookTargets.Target target, WebhookSecrets signing) {
    byte[] body = d.payload().getBytes(StandardCharsets.UTF_8);
    Instant now = Instant.now();
    long timestamp = now.getEpochSecond();
    String path = target.uri().getRawPath() == null || target.uri().getRawPath().isEmpty() ? "/" : target.uri().getRawPath();
    String uri = target.uri().getRawQuery() == null ? path : path + "?" + target.uri().getRawQuery();
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST)
        .setServer(SocketAddress.inetSocketAddress(target.port(), target.address().getHostAddress()))
        .setHost(target.host()).setPort(target.port()).setURI(uri).setSsl(target.https()).setFollowRedirects(false)
        .setConnectTimeout(config.timeoutMs()).setIdleTimeout(config.timeoutMs())
        .putHeader("User-Agent", "KeyPulse-Webhooks/1")
        .putHeader("Content-Type", "application/json")
        .putHeader("X-KeyPulse-Signature", Signer.sign(signing.current(), body))
        .putHeader("X-KeyPulse-Timestamp", Long.toString(timestamp))
        .putHeader("X-KeyPulse-Delivery", d.deliveryId())
        .putHeader("X-KeyPulse-Event", d.eventHeader())
        .putHeader("webhook-id", d.deliveryId())
        .putHeader("webhook-timestamp", Long.toString(timestamp))
        .putHeader("webhook-signature", Signer.standard(signing.signingAt(now), d.deliveryId(), timestamp, body));
    Promise<Integer> answered = Promise.promise();
    client.request(request).onSuccess(sending -> exchange(sending, Buffer.buffer(body), answered))
        .onFailure(answered::tryFail);
    return answered.future();
  }

  /**
   * The status decides the attempt, and it must come within timeout_ms of the request; the idle
   * timeout alone would let a receiver trickling its answer a byte at a time hold a slot for ever.
   * The body is drained so that the connection can carry the next webhook, but not kept: past
   * MAX_ANSWER_BYTES, or still coming at the deadline, the connection is closed instead.
   */
  private void exchange(HttpClientRequest sending, Buffer body, Promise<Integer> answered) {
    long deadline = vertx.setTimer(config.timeoutMs(), id -> {
      TimeoutException late = new TimeoutException("timeout: no complete answer within " + config.timeoutMs() + " ms");
      answered.tryFail(late);
      sending.reset(0, late);
    });
    sending.send(body).onFailure(e -> {
      vertx.cancelTimer(deadline);
      answered.tryFail(e);
    }).onSuccess(response -> {
      answered.tryComplete(response.statusCode());
      long[] read = {0};
      response.handler(chunk -> {
        read[0] += chunk.length();
        if (read[0] > MAX_ANSWER_BYTES && vertx.cancelTimer(deadline)) {
          sending.reset();
        }
      });
      response.end().onComplete(done -> vertx.cancelTimer(deadline));
    });
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
    }
    outcomes.computeIfAbsent(status, s -> Counter.builder("keypulse.webhook.deliveries")
        .tag("outcome", s.equals("pending") ? "retrying" : s)
        .description("Webhook attempts by outcome: delivered, retrying, failed").register(metrics)).increment();
    return new Outbox.Outcome(d, attempt, status, next);
  }

  private Future<WebhookSecrets> secret(String partnerId) {
    WebhookSecrets known = secrets.get(partnerId);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    return partners.webhookSecrets(partnerId).map(found -> {
      WebhookSecrets secret = found.orElseThrow(() -> new IllegalStateException("partner " + partnerId + " is gone"));
      secrets.put(partnerId, secret);
      return secret;
    });
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return message.length() > 300 ? message.substring(0, 300) : message;
  }}
