package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * scripts/bench detect, part two: the detectors alone (no HTTP, no Postgres, no event bus), over a
 * week of synthetic signings and accesses for many keys; and what a key's state weighs.
 * Run with the test classpath: java io.keypulse.detect.ShardThroughputBench [keys] [events per key]
 */
public final class ShardThroughputBench {
  private ShardThroughputBench() {}

  public static void main(String[] args) {
    int keys = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
    int perKey = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    List<EventFacts> events = events(keys, perKey, new Random(11));
    KeyDetector detector = new KeyDetector();
    run(detector, events, keys);
    long best = Long.MAX_VALUE;
    KeyState[] states = null;
    for (int round = 0; round < 5; round++) {
      long began = System.nanoTime();
      states = run(detector, events, keys);
      best = Math.min(best, System.nanoTime() - began);
    }
    long bytes = 0;
    long checkpoint = 0;
    for (KeyState s : states) {
      bytes += s.bytes();
      checkpoint += KeyStateCodec.write(s).length;
    }
    System.out.printf("detector throughput: %.0f events/s on one thread (%d keys, %d events, best of 5)%n",
        events.size() / (best / 1e9), keys, events.size());
    System.out.printf("state per key after a week: %d bytes in memory (estimate), %d bytes checkpointed%n",
        bytes / keys, checkpoint / keys);
    System.out.printf("measured heap per key: %d bytes%n", heapPerKey(detector, events, keys));
  }

  private static KeyState[] run(KeyDetector detector, List<EventFacts> events, int keys) {
    KeyState[] states = new KeyState[keys];
    for (int i = 0; i < keys; i++) {
      states[i] = new KeyState();
    }
    for (EventFacts e : events) {
      int key = Integer.parseInt(e.keyId().substring(2));
      detector.detect(e, states[key], KeyHistory.DEFAULTS, List.of(), e.occurredAt());
    }
    return states;
  }

  private static long heapPerKey(KeyDetector detector, List<EventFacts> events, int keys) {
    Runtime rt = Runtime.getRuntime();
    gc();
    long before = rt.totalMemory() - rt.freeMemory();
    KeyState[] states = run(detector, events, keys);
    gc();
    long after = rt.totalMemory() - rt.freeMemory();
    return states.length == 0 ? 0 : (after - before) / states.length;
  }

  private static void gc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Per key: signings and accesses over a week from two IPs and an actor, in time order. */
  private static List<EventFacts> events(int keys, int perKey, Random random) {
    long start = System.currentTimeMillis() - 7 * KeyState.DAY;
    long step = 7 * KeyState.DAY / perKey;
    List<EventFacts> out = new ArrayList<>(keys * perKey);
    long id = 1;
    for (int n = 0; n < perKey; n++) {
      for (int k = 0; k < keys; k++) {
        long t = start + n * step + random.nextInt((int) step);
        boolean sign = random.nextInt(5) > 0;
        out.add(new EventFacts(id, "p_bench", "k-" + k, sign ? "signing_operation" : "key_accessed",
            sign ? "sign" : "access", "nominal", true, "10.0." + k % 250 + "." + (1 + random.nextInt(2)),
            "svc-" + k, null, t, t, id - keys));
        id++;
      }
    }
    return out;
  }
}
