package io.keypulse.delivery;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * scripts/bench webhooks: plain single-event ingest flat out without a rule; then a rule that fires
 * on every event, a receiver on loopback, ingest flat out again (webhooks delivered while it ran
 * against the plain ingest rate, the backlog at its end and how soon it drained); then ingest at a
 * steady rate of half that maximum: end-to-end latency from the ingest request to the webhook's
 * arrival, deliveries per second, lost and duplicated deliveries, and the 100 ms windows (UTC) in which
 * the webhooks over the latency bar were sent, to be lined up with the node's and Postgres's logs.
 *
 * <p>Usage: WebhookBench BASE_URL API_KEY SECONDS [RATE [NODE_PID]]. The load generator and the receiver
 * share this JVM, so one clock times both ends. With the node's pid, each warm-up runs until the node's JIT
 * compilers have settled rather than for a fixed time (RATE 0: half the maximum).
 *
 * <p>It shares the node's two cores, and what it spends is taken from the node: so it keeps its own cost
 * small (bodies written as text, times in arrays of longs, the receiver reading only the sequence number)
 * and prints it, in CPU microseconds per event beside the node's. Built on Vert.x's WebClient with maps of
 * boxed times and a JSON tree per webhook, it spent 264-446 us per event at a moderate rate, more than the
 * node, and paused for 8-31 ms in its own collections, both landing in the latency it measured.
 */
public final class WebhookBench {
  private static final int CONNECTIONS = 64;
  private static final int MAX_SECONDS = 10;
  /**
   * Seconds at the steady rate before the steady run is measured. The flat-out run leaves the node
   * and Postgres work to finish after it (autovacuum of its ~100 000 deliveries, the detectors'
   * queue): measured at once, each of three steady runs began with a stall (0.3-1 s in which most
   * requests took over 25 ms), the end of the burst rather than the rate's steady state.
   */
  private static final int LEAD_IN_SECONDS = 10;
  /** A warm-up ends when the node's compiler threads used less than this share of a core in a round. */
  private static final double SETTLED = 0.03;
  private static final int WARM_LIMIT_SECONDS = 300;

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client;
  private final String apiKey;
  private final URI base;
  private final RequestOptions ingestRequest;
  /** Nanosecond times by event sequence number; 0: not (yet). */
  private final Times sentAt = new Times();
  private final Times ackedAt = new Times();
  private final Times arrivedAt = new Times();
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
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(CONNECTIONS));
    this.ingestRequest = new RequestOptions().setMethod(HttpMethod.POST).setHost(this.base.getHost())
        .setPort(this.base.getPort()).setURI("/api/v1/events/ingest").putHeader("Content-Type", "application/json")
        .putHeader("X-API-Key", apiKey);
  }

  /** Times by sequence number, in arrays of longs allocated a chunk at a time as the sequence grows. */
  private static final class Times {
    private static final int CHUNK = 1 << 18;
    private final AtomicReferenceArray<AtomicLongArray> chunks = new AtomicReferenceArray<>(4096);

    private AtomicLongArray chunk(long n) {
      int c = (int) (n / CHUNK);
      AtomicLongArray chunk = chunks.get(c);
      if (chunk == null) {
        chunks.compareAndSet(c, null, new AtomicLongArray(CHUNK));
        chunk = chunks.get(c);
      }
      return chunk;
    }

    long get(long n) {
      return chunk(n).get((int) (n % CHUNK));
    }

    void set(long n, long nanos) {
      chunk(n).set((int) (n % CHUNK), nanos);
    }

    /** Sets the time unless one is there; false if it was. */
    boolean setFirst(long n, long nanos) {
      return chunk(n).compareAndSet((int) (n % CHUNK), 0, nanos);
    }

    /** How many of (from, to] have a time, and (atOrBefore) how many of those at or before it. */
    long count(long from, long to, long atOrBefore) {
      long count = 0;
      for (long n = from + 1; n <= to; n++) {
        long t = get(n);
        if (t != 0 && t <= atOrBefore) {
          count++;
        }
      }
      return count;
    }
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
    // One rule, so one delivery per event: a second webhook for the same event is a duplicate.
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      long now = System.nanoTime();
      if (!arrivedAt.setFirst(seqOf(body), now)) {
        duplicates.incrementAndGet();
      }
      req.response().end();
    })).listen(0, "127.0.0.1").await();
    System.err.println("warming up, then plain single-event ingest without a rule (" + MAX_SECONDS + " s) ...");
    warmUp("without a rule", () -> closedLoop(MAX_SECONDS));
    long plainFrom = seq.get();
    long p0 = System.nanoTime();
    closedLoop(MAX_SECONDS);
    double plain = ackedAt.count(plainFrom, seq.get(), Long.MAX_VALUE) / ((System.nanoTime() - p0) / 1e9);

    JsonObject rule = new JsonObject().put("name", "every event").put("event_type_match", "*")
        .put("webhook_url", "http://127.0.0.1:" + receiver.actualPort() + "/hook").put("severity", "nominal");
    int status = client.request(HttpMethod.POST, base.getPort(), base.getHost(), "/api/v1/rules")
        .compose(req -> req.putHeader("X-API-Key", apiKey).putHeader("Content-Type", "application/json")
            .send(rule.toBuffer()))
        .await().statusCode();
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
    long maxAcked = ackedAt.count(maxFrom, maxTo, Long.MAX_VALUE);
    double max = maxAcked / ((t1 - t0) / 1e9);
    long deliveredInRun = arrivedAt.count(maxFrom, maxTo, t1);
    long backlog = maxAcked - deliveredInRun;
    boolean caughtUp = drain(maxFrom, maxTo, 120);
    long lastArrival = t1;
    for (long n = maxFrom + 1; n <= maxTo; n++) {
      lastArrival = Math.max(lastArrival, arrivedAt.get(n));
    }
    double drainSeconds = Math.max(0, lastArrival - t1) / 1e9;
    Flat flat = new Flat(plain, max, deliveredInRun / ((t1 - t0) / 1e9), backlog, caughtUp ? drainSeconds : -1);
    int rate = fixedRate > 0 ? fixedRate : (int) (max / 2);
    System.err.printf("max %.0f events/s; %d s at %d events/s, then the steady run at that rate for %d s ...%n", max,
        LEAD_IN_SECONDS, rate, seconds);
    openLoop(rate, LEAD_IN_SECONDS);
    System.err.println("steady run ...");

    long from = seq.get();
    long started = System.nanoTime();
    Cpu before = Cpu.now(nodePid);
    openLoop(rate, seconds);
    Cpu used = Cpu.now(nodePid).minus(before);
    long to = seq.get();
    boolean drained = drain(from, to, 30);
    report(flat, rate, seconds, from, to, started, drained, used);
  }

  /**
   * The flat-out run: plain ingest without a rule, then with the rule; webhooks delivered while it
   * ran, those still waiting at its end, and how long after it the last one arrived (-1: not in 120 s).
   */
  private record Flat(double plain, double withRule, double delivered, long backlog, double drainSeconds) {}

  /** CPU ticks (USER_HZ, 100 a second) of the node, of this JVM, and of the whole machine (busy). */
  private record Cpu(long node, long bench, long machine) {
    static Cpu now(long nodePid) {
      try {
        String[] all = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i = 1; i < all.length; i++) {
          busy += i == 4 || i == 5 ? 0 : Long.parseLong(all[i]); // idle and iowait are not busy
        }
        return new Cpu(nodePid > 0 ? ticks(Path.of("/proc/" + nodePid + "/stat")) : 0,
            ticks(Path.of("/proc/self/stat")), busy);
      } catch (IOException | RuntimeException unreadable) {
        return new Cpu(0, 0, 0);
      }
    }

    Cpu minus(Cpu earlier) {
      return new Cpu(node - earlier.node, bench - earlier.bench, machine - earlier.machine);
    }
  }

  /** User and system ticks from a /proc stat file (fields 14 and 15). */
  private static long ticks(Path stat) throws IOException {
    String text = Files.readString(stat);
    String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

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
          total += ticks(task.toPath().resolve("stat"));
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
    Buffer event = Buffer.buffer("{\"event_type\":\"signing_operation\",\"key_id\":\"bench-key-" + (n % 1000)
        + "\",\"data\":{\"seq\":" + n + ",\"chain\":\"ethereum\"}}");
    sentAt.set(n, System.nanoTime());
    inFlight.incrementAndGet();
    return client.request(ingestRequest).compose(req -> req.send(event)).compose(r -> {
      if (r.statusCode() == 202) {
        ackedAt.set(n, System.nanoTime());
      } else {
        refused.incrementAndGet();
      }
      return r.end();
    }).andThen(done -> inFlight.decrementAndGet()).otherwise(e -> {
      refused.incrementAndGet();
      return null;
    });
  }

  /** The event's sequence number from the webhook's body ({@code "seq":N} in the event's data). */
  private static long seqOf(Buffer body) {
    String text = body.toString();
    int at = text.indexOf("\"seq\":") + 6;
    long n = 0;
    for (char c = text.charAt(at); c >= '0' && c <= '9'; c = text.charAt(++at)) {
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** Waits until every acknowledged event in [from, to) has its webhook, or the time is up. */
  private boolean drain(long from, long to, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      long missing = 0;
      for (long n = from + 1; n <= to; n++) {
        if (ackedAt.get(n) != 0 && arrivedAt.get(n) == 0) {
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

  private void report(Flat flat, int rate, int seconds, long from, long to, long started, boolean drained, Cpu used) {
    List<Double> e2e = new ArrayList<>();
    List<Double> ingest = new ArrayList<>();
    long lost = 0;
    long lastArrival = started;
    // Send time (UTC, 100 ms windows) -> [webhooks sent then, of those over the bar]: to line the tail
    // up with the node's and Postgres's logs.
    TreeMap<Long, int[]> windows = new TreeMap<>();
    long wallMillis = System.currentTimeMillis();
    long wallNanos = System.nanoTime();
    for (long n = from + 1; n <= to; n++) {
      long acked = ackedAt.get(n);
      if (acked == 0) {
        continue;
      }
      ingest.add((acked - sentAt.get(n)) / 1e6);
      long arrived = arrivedAt.get(n);
      if (arrived == 0) {
        lost++;
        continue;
      }
      double ms = (arrived - sentAt.get(n)) / 1e6;
      e2e.add(ms);
      int[] w = windows.computeIfAbsent((wallMillis - (wallNanos - sentAt.get(n)) / 1_000_000) / 100, k -> new int[2]);
      w[0]++;
      w[1] += ms > 25 ? 1 : 0;
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
    System.out.println(slowWindows(windows));
    long events = Math.max(1, to - from);
    System.out.printf("CPU in the steady run, us per event: node %s, this benchmark (load and receiver) %.0f;"
            + " the machine was %.0f %% busy (2 cores)%n", nodePid > 0 ? String.format("%.0f", used.node() * 1e4 / events)
            : "-", used.bench() * 1e4 / events, used.machine() / (seconds * 2.0));
    System.out.printf("lost: %d, duplicates: %d%s%n", lost, duplicates.get(), drained ? "" : " (not drained in 30 s)");
  }

  /** The 100 ms windows with the most webhooks over 25 ms, in time order, and how many windows had any. */
  private static String slowWindows(TreeMap<Long, int[]> windows) {
    List<Map.Entry<Long, int[]>> slow = new ArrayList<>(windows.entrySet().stream().filter(e -> e.getValue()[1] > 0)
        .sorted((a, b) -> Integer.compare(b.getValue()[1], a.getValue()[1])).limit(10).toList());
    slow.sort(Map.Entry.comparingByKey());
    DateTimeFormatter time = DateTimeFormatter.ofPattern("HH:mm:ss.S").withZone(ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(String.format("over 25 ms: in %d of %d 100 ms windows (by send time);"
        + " the worst (UTC, over/sent):", windows.values().stream().filter(w -> w[1] > 0).count(), windows.size()));
    slow.forEach(e -> out.append(String.format(" %s %d/%d", time.format(Instant.ofEpochMilli(e.getKey() * 100)),
        e.getValue()[1], e.getValue()[0])));
    return out.toString();
  }

  private static double pct(List<Double> sorted, int p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }
}
