package io.keypulse.detect;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** What this node's shards hold and have done, for /metrics and the operators' cluster view. */
public final class DetectStats {
  private final AtomicLong keysHeld = new AtomicLong();
  private final AtomicLong detected = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final ConcurrentHashMap<Integer, Long> shardBytes = new ConcurrentHashMap<>();
  private final Counter detectedCounter;
  private final Timer lag;

  public DetectStats(MeterRegistry metrics) {
    Gauge.builder("keypulse.detect.keys", keysHeld, AtomicLong::get).description("Keys whose state this node holds")
        .register(metrics);
    Gauge.builder("keypulse.detect.state.bytes", shardBytes, m -> m.values().stream().mapToLong(Long::longValue).sum())
        .description("Approximate size of the key states held, at the last checkpoint round").register(metrics);
    detectedCounter = Counter.builder("keypulse.detect.events").description("Events detected by this node's shards")
        .register(metrics);
    lag = Timer.builder("keypulse.detect.lag").description("From commit to detection").publishPercentileHistogram()
        .register(metrics);
  }

  void keyLoaded() {
    keysHeld.incrementAndGet();
  }

  void keyDropped() {
    keysHeld.decrementAndGet();
  }

  void detected(long commitMillis, long nowMillis) {
    detected.incrementAndGet();
    detectedCounter.increment();
    lag.record(Duration.ofMillis(Math.max(0, nowMillis - commitMillis)));
  }

  void replayed(int events) {
    replayed.addAndGet(events);
  }

  /** Measured by each shard at its checkpoint round. */
  void shardBytes(int shard, long bytes) {
    shardBytes.put(shard, bytes);
  }

  public JsonObject toJson() {
    long keys = keysHeld.get();
    return new JsonObject().put("keys_held", keys).put("events_detected", detected.get())
        .put("events_replayed", replayed.get())
        .put("bytes_per_key", keys == 0 ? 0 : shardBytes.values().stream().mapToLong(Long::longValue).sum() / keys);
  }
}
