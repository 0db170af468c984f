package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import io.keypulse.config.ConfigLoader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Drives one key's state through simulated time: events in, outcomes out. No I/O. */
final class KeyHistory {
  static final Policy DEFAULTS = Policy.defaults(ConfigLoader.load(Map.of(), Map.of()).detect());
  static final long HOUR = KeyState.HOUR;
  static final long MINUTE = KeyState.MINUTE;
  static final long DAY = KeyState.DAY;

  final KeyState state = new KeyState();
  final KeyDetector detector = new KeyDetector();
  Policy policy = DEFAULTS;
  List<Threshold> thresholds = List.of();
  Mutes mutes = Mutes.NONE;
  /** Hears every outcome, when set; {@code last} is the latest one. */
  java.util.function.Consumer<KeyDetector.Outcome> listener;
  KeyDetector.Outcome last;
  long wallClock;
  private long nextId = 1;

  KeyHistory(long wallClock) {
    this.wallClock = wallClock;
  }

  /** A builder for one event of this key. */
  final class Event {
    String type = "signing_operation";
    String canonical = "sign";
    String severity = "nominal";
    boolean derived = true;
    String ip;
    String actor;
    String policyName;

    Event type(String raw, String canonicalType) {
      type = raw;
      canonical = canonicalType;
      return this;
    }

    Event ip(String value) {
      ip = value;
      return this;
    }

    Event actor(String value) {
      actor = value;
      return this;
    }

    Event critical() {
      severity = "critical";
      derived = false;
      return this;
    }

    Event policy(String name) {
      policyName = name;
      return this;
    }

    KeyDetector.Outcome at(long t) {
      long id = nextId++;
      EventFacts e = new EventFacts(id, "p_test", "key-1", type, canonical, severity, derived, ip, actor,
          policyName, t, t, id - 1);
      last = detector.detect(e, state, policy, thresholds, mutes, wallClock, false);
      if (listener != null) {
        listener.accept(last);
      }
      return last;
    }
  }

  Event sign() {
    return new Event();
  }

  Event event(String raw, String canonical) {
    return new Event().type(raw, canonical);
  }

  /** perHour events of the given kind spread over each hour in [from, to). */
  void steady(long from, long to, int perHour, java.util.function.Supplier<Event> kind) {
    for (long hour = from; hour < to; hour += HOUR) {
      for (int i = 0; i < perHour; i++) {
        kind.get().at(hour + i * (HOUR / perHour));
      }
    }
  }

  static List<String> rules(KeyDetector.Outcome outcome) {
    List<String> out = new ArrayList<>();
    outcome.alerts().forEach(f -> out.add(f.rule() + ":" + f.severity()));
    return out;
  }

  static long hourStart(Instant t) {
    return t.toEpochMilli() / HOUR * HOUR;
  }
}
