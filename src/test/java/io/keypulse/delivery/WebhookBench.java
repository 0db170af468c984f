package io.keypulse.delivery;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * scripts/bench webhooks: plain single-event ingest flat out without a rule; then a rule that fires
 * on every event, a receiver on loopback, ingest flat out again (webhooks delivered while it ran
 * against the plain ingest rate, the backlog at its end and how soon it drained); then ingest at a
 * steady rate of half that maximum: end-to-end latency from the ingest request to the webhook's
 * arrival, deliveries per second, lost and duplicated deliveries.
 *
 * <p>Usage: WebhookBench BASE_URL API_KEY SECONDS [RATE [NODE_PID]]. The load generator and the receiver
 * share this JVM, so one clock times both ends. With the node's pid, each warm-up runs until the node's JIT
 * compilers have settled rather than for a fixed time (RATE 0: half the maximum).
 */
public final class WebhookBench {
  private static final int CONNECTIONS = 64;
  private static final int MAX_SECONDS = 10;
  /** A warm-up ends when the node's compiler threads used less than this share of a core in a round. */
  private static final double SETTLED = 0.03;
  private static final int WARM_LIMIT_SECONDS = 300;

  private final Vertx vertx = Vertx.vertx();
  private final WebClient client;
  private final String apiKey;
  private final URI base;
  private final Map<Long, Long> sentAt = new ConcurrentHashMap<>();
  private final Map<Long, Long> ackedAt = new ConcurrentHashMap<>();
  private final Map<Long, Long> arrivedAt = new ConcurrentHashMap<>();
  private final Set<String> deliveryIds = ConcurrentHashMap.newKeySet();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final long nodePid;
  private final List<String> warmUps = new ArrayList<>();

  private WebhookBench(String base, String apiKey, long nodePid) {
    this.base = URI.create(base);
    this.apiKey = apiKey;
    this.nodePid = nodePid;
    this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(CONNECTIONS));
  }

  public static void main(String[] args) throws Exception {
    WebhookBench bench = new WebhookBench(args[0], args[1], args.length > 4 ? Long.parseLong(args[4]) : 0);
    try {
      bench.run(Integer.parseInt(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 0);
    } finally {
      bench.vertx.close().await();
    }
  }

  /** A steady run at rate events/s, or (0) at half the measured maximum. */
  private void run(int seconds, int fixedRate) throws Exception {
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      long now = System.nanoTime();
      if (!deliveryIds.add(req.getHeader("X-KeyPulse-Delivery"))) {
        duplicates.incrementAndGet();
      }
      arrivedAt.putIfAbsent(body.toJsonObject().getJsonObject("metadata").getLong("seq"), now);
      req.response().end();
    })).listen(0, "127.0.0.1").await();
    System.err.println("warming up, then plain single-event ingest without a rule (" + MAX_SECONDS + " s) ...");
    warmUp("without a rule", () -> closedLoop(MAX_SECONDS));
    long plainFrom = seq.get();
    long p0 = System.nanoTime();
    closedLoop(MAX_SECONDS);
    double plain = ackedAt.keySet().stream().filter(n -> n > plainFrom).count() / ((System.nanoTime() - p0) / 1e9);

    JsonObject rule = new JsonObject().put("name", "every event").put("event_type_match", "*")
        .put("webhook_url", "http://127.0.0.1:" + receiver.actualPort() + "/hook").put("severity", "nominal");
    int status = client.post(base.getPort(), base.getHost(), "/api/v1/rules").putHeader("X-API-Key", apiKey)
        .sendJsonObject(rule).await().statusCode();
    if (status != 201) {
      throw new IllegalStateException("could not create the rule: HTTP " + status);
    }

    System.err.println("warming up with the rule ...");
    warmUp("with the rule", () -> {
      long warmFrom = seq.get();
      closedLoop(MAX_SECONDS);
      drain(warmFrom, seq.get(), 120);
    });
    System.err.println("flat out with the rule active (" + MAX_SECONDS + " s) ...");
    long maxFrom = seq.get();
    long t0 = System.nanoTime();
    closedLoop(MAX_SECONDS);
    long t1 = System.nanoTime();
    long maxTo = seq.get();
    long maxAcked = ackedAt.keySet().stream().filter(n -> n > maxFrom && n <= maxTo).count();
    double max = maxAcked / ((t1 - t0) / 1e9);
    long deliveredInRun = arrivedAt.entrySet().stream()
        .filter(e -> e.getKey() > maxFrom && e.getKey() <= maxTo && e.getValue() <= t1).count();
    long backlog = maxAcked - deliveredInRun;
    boolean caughtUp = drain(maxFrom, maxTo, 120);
    long lastArrival = arrivedAt.entrySet().stream().filter(e -> e.getKey() > maxFrom && e.getKey() <= maxTo)
        .mapToLong(Map.Entry::getValue).max().orElse(t1);
    double drainSeconds = Math.max(0, lastArrival - t1) / 1e9;
    Flat flat = new Flat(plain, max, deliveredInRun / ((t1 - t0) / 1e9), backlog, caughtUp ? drainSeconds : -1);
    int rate = fixedRate > 0 ? fixedRate : (int) (max / 2);
    System.err.printf("max %.0f events/s; steady run at %d events/s for %d s ...%n", max, rate, seconds);

    long from = seq.get();
    long started = System.nanoTime();
    openLoop(rate, seconds);
    long to = seq.get();
    boolean drained = drain(from, to, 30);
    report(flat, rate, seconds, from, to, started, drained);
  }

  /**
   * The flat-out run: plain ingest without a rule, then with the rule; webhooks delivered while it
   * ran, those still waiting at its end, and how long after it the last one arrived (-1: not in 120 s).
   */
  private record Flat(double plain, double withRule, double delivered, long backlog, double drainSeconds) {}

  private interface Round {
    void run() throws InterruptedException;
  }

  /**
   * Rounds of load until the node's JIT compilers have settled (under SETTLED of a core in a round, at
   * most WARM_LIMIT_SECONDS), or one round without the node's pid: a run while the compiler threads
   * still work measures them, on two cores, as much as the node.
   */
  private void warmUp(String what, Round round) throws InterruptedException {
    long start = System.nanoTime();
    while (true) {
      long ticks = compilerTicks();
      long t0 = System.nanoTime();
      round.run();
      double share = (compilerTicks() - ticks) / 100.0 / ((System.nanoTime() - t0) / 1e9);
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (nodePid <= 0) {
        warmUps.add(String.format("%s: one %d s round", what, MAX_SECONDS));
        return;
      }
      System.err.printf("    the node's JIT compilers used %.0f %% of a core in the last round%n", share * 100);
      if (share < SETTLED || elapsed >= WARM_LIMIT_SECONDS) {
        warmUps.add(String.format("%s: %.0f s, until the node's JIT compilers used %.1f %% of a core in a round%s", what,
            elapsed, share * 100, share < SETTLED ? "" : " (stopped at the limit)"));
        return;
      }
    }
  }

  /** CPU ticks (USER_HZ, 100 a second on Linux) of the node's JIT compiler threads; 0 without its pid. */
  private long compilerTicks() {
    if (nodePid <= 0) {
      return 0;
    }
    long total = 0;
    File[] tasks = new File("/proc/" + nodePid + "/task").listFiles();
    for (File task : tasks == null ? new File[0] : tasks) {
      try {
        String name = Files.readString(task.toPath().resolve("comm")).strip();
        if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
          String stat = Files.readString(task.toPath().resolve("stat"));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        }
      } catch (IOException gone) {
        // A thread that ended between the listing and the read.
      }
    }
    return total;
  }

  /** CONNECTIONS requests always in flight, for the given time. */
  private void closedLoop(int seconds) throws InterruptedException {
    long until = System.nanoTime() + seconds * 1_000_000_000L;
    for (int i = 0; i < CONNECTIONS; i++) {
      vertx.runOnContext(v -> keepSending(until));
    }
    Thread.sleep(seconds * 1000L);
    settle();
  }

  /** Requests sent and not yet answered: a run ends when they are, so none is acknowledged after its drain. */
  private void settle() throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  private void keepSending(long until) {
    if (System.nanoTime() < until) {
      send().onComplete(done -> keepSending(until));
    }
  }

  /** Requests started at a fixed rate, whatever the answers do (no coordinated omission). */
  private void openLoop(int rate, int seconds) throws InterruptedException {
    long start = System.nanoTime();
    long total = (long) rate * seconds;
    AtomicLong started = new AtomicLong();
    long timer = vertx.setPeriodic(1, id -> {
      long due = Math.min(total, (System.nanoTime() - start) * rate / 1_000_000_000L);
      while (started.get() < due) {
        started.incrementAndGet();
        send();
      }
    });
    while (started.get() < total) {
      Thread.sleep(50);
    }
    vertx.cancelTimer(timer);
    settle();
  }

  private Future<Void> send() {
    long n = seq.incrementAndGet();
    JsonObject event = new JsonObject().put("event_type", "signing_operation").put("key_id", "bench-key-" + (n % 1000))
        .put("data", new JsonObject().put("seq", n).put("chain", "ethereum"));
    sentAt.put(n, System.nanoTime());
    inFlight.incrementAndGet();
    return client.post(base.getPort(), base.getHost(), "/api/v1/events/ingest").putHeader("X-API-Key", apiKey)
        .sendJsonObject(event).andThen(done -> inFlight.decrementAndGet()).map(r -> {
          if (r.statusCode() == 202) {
            ackedAt.put(n, System.nanoTime());
          } else {
            refused.incrementAndGet();
          }
          return (Void) null;
        }).otherwise(e -> {
          refused.incrementAndGet();
          return null;
        });
  }

  /** Waits until every acknowledged event in [from, to) has its webhook, or the time is up. */
  private boolean drain(long from, long to, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      long missing = 0;
      for (long n = from + 1; n <= to; n++) {
        if (ackedAt.containsKey(n) && !arrivedAt.containsKey(n)) {
          missing++;
        }
      }
      if (missing == 0) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  private void report(Flat flat, int rate, int seconds, long from, long to, long started, boolean drained) {
    List<Double> e2e = new ArrayList<>();
    List<Double> ingest = new ArrayList<>();
    long lost = 0;
    long lastArrival = started;
    for (long n = from + 1; n <= to; n++) {
      Long acked = ackedAt.get(n);
      if (acked == null) {
        continue;
      }
      ingest.add((acked - sentAt.get(n)) / 1e6);
      Long arrived = arrivedAt.get(n);
      if (arrived == null) {
        lost++;
        continue;
      }
      e2e.add((arrived - sentAt.get(n)) / 1e6);
      lastArrival = Math.max(lastArrival, arrived);
    }
    Collections.sort(e2e);
    Collections.sort(ingest);
    double window = (lastArrival - started) / 1e9;
    System.out.printf("KeyPulse webhook benchmark: one rule firing on every event, receiver on loopback, this machine"
        + " (2 cores)%n");
    warmUps.forEach(w -> System.out.printf("warm-up %s%n", w));
    System.out.printf("plain single-event ingest, no rule: %.0f events/s (%d connections)%n", flat.plain(), CONNECTIONS);
    System.out.printf("flat out with the rule: ingest %.0f events/s, webhooks delivered %.0f/s while it ran "
            + "(%.2fx the plain ingest rate; bar >= 0.5)%n", flat.withRule(), flat.delivered(),
        flat.delivered() / flat.plain());
    System.out.printf("  backlog at its end: %d, drained %s after it (bar: <= 10 s)%n", flat.backlog(),
        flat.drainSeconds() < 0 ? "NOT within 120 s" : String.format("%.1f s", flat.drainSeconds()));
    System.out.printf("steady run: %d events/s for %d s, %d acknowledged, %d refused%n", rate, seconds, ingest.size(),
        refused.get());
    System.out.printf("ingest latency ms:              p50 %.1f  p99 %.1f  max %.1f%n", pct(ingest, 50), pct(ingest, 99),
        pct(ingest, 100));
    System.out.printf("ingest -> webhook received ms:  p50 %.1f  p99 %.1f  max %.1f  (bar: p99 <= 25)%n",
        pct(e2e, 50), pct(e2e, 99), pct(e2e, 100));
    System.out.printf("deliveries/s: %.0f (%d in %.1f s)%n", e2e.size() / window, e2e.size(), window);
    System.out.printf("lost: %d, duplicates: %d%s%n", lost, duplicates.get(), drained ? "" : " (not drained in 30 s)");
  }

  private static double pct(List<Double> sorted, int p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }
}
