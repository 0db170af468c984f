package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The behavioural state of one key, as its owning shard keeps it. All times are event times
 * (epoch millis). The signing history is allocated on the first signing: keys that never sign stay
 * small.
 */
final class KeyState {
  static final long MINUTE = 60_000L;
  static final long HOUR = 60 * MINUTE;
  static final long DAY = 24 * HOUR;
  /** Exact recent values per set; older ones live on in the set's filter. */
  static final int SEEN_LIMIT = 32;
  static final long NEVER = Long.MIN_VALUE;

  long lastEventId;
  long eventCount;
  long firstEventAt = NEVER;
  long lastEventAt = NEVER;
  /** The span of the key's accesses, exports and signings: what new-source detection learns from. */
  long firstUsedAt = NEVER;
  long lastUsedAt = NEVER;
  SigningHistory signing;
  final RecentSet ips = new RecentSet(SEEN_LIMIT);
  final RecentSet actors = new RecentSet(SEEN_LIMIT);
  final SourceNetworks networks = new SourceNetworks();
  long createdAt = NEVER;
  long deletedAt = NEVER;
  long lastRotatedAt = NEVER;
  long rotationAlertedAt = NEVER;
  /**
   * rule -> the open incident: when it was raised (event time) and at which severity it stands. Both
   * maps start as the shared empty one: most keys never need them (see {@link #open}, {@link #counters}).
   */
  Map<String, Incident> incidents = Map.of();
  Map<Long, ThresholdCounter> thresholds = Map.of();
  /** Per-key overrides (PATCH /api/keys): null means the partner's policy. */
  Integer rotationPolicyDays;
  BusinessHours businessHours;
  /** The seasonal view of the hour last asked about; recomputed when the hour or the history changes. */
  private SeasonalBaseline baseline;
  private int baselineRevision;
  private ZoneId baselineZone;

  /** An alert of one rule, raised at an event time; repeats and escalations within the window fold into it. */
  static final class Incident {
    final long raisedAt;
    String severity;

    Incident(long raisedAt, String severity) {
      this.raisedAt = raisedAt;
      this.severity = severity;
    }
  }

  /** Counts a threshold's events over its window; remembers when each level last fired. */
  static final class ThresholdCounter {
    final Threshold.Window window;
    final TimeBuckets buckets;
    long lastWarnAt = NEVER;
    long lastBreachAt = NEVER;

    ThresholdCounter(Threshold.Window window) {
      this.window = window;
      this.buckets = new TimeBuckets(window.millis / window.buckets, window.buckets);
    }

    long countAt(long t) {
      long now = buckets.bucketOf(t);
      return buckets.sum(now - window.buckets + 1, now);
    }
  }

  /**
   * Volume and off-hours detectors learn until the key's observed signings span the learning
   * period, whatever its creation date says.
   */
  boolean signingLearning(Policy policy) {
    return signing == null || signing.lastSignAt - signing.firstSignAt < policy.learningMillis();
  }

  /** New IPs and actors are judged once the key has enough events and a long enough span of use. */
  boolean sourcesLearning(Policy policy, long historyEvents) {
    return historyEvents < policy.newSourceMinHistory() || firstUsedAt == NEVER
        || lastUsedAt - firstUsedAt < policy.newSourceLearningHours() * HOUR;
  }

  long lastSignAt() {
    return signing == null ? NEVER : signing.lastSignAt;
  }

  /** The seasonal baseline at time t, in the zone that decides weekdays from weekends. */
  SeasonalBaseline baseline(long t, ZoneId zone) {
    long hour = Math.floorDiv(t, HOUR);
    if (baseline == null || baseline.hour() != hour || baselineRevision != signing.revision || baselineZone != zone) {
      baseline = SeasonalBaseline.of(signing, t, zone, false);
      baselineRevision = signing.revision;
      baselineZone = zone;
    }
    return baseline;
  }

  /** Folds one event into the state; the detectors look at the state before and after. */
  void apply(EventFacts e, List<Threshold> partnerThresholds) {
    long t = e.occurredAt();
    lastEventId = Math.max(lastEventId, e.id());
    eventCount++;
    firstEventAt = firstEventAt == NEVER ? t : Math.min(firstEventAt, t);
    lastEventAt = Math.max(lastEventAt, t);
    if (NewSource.WATCHED.contains(String.valueOf(e.canonicalType()))) {
      firstUsedAt = firstUsedAt == NEVER ? t : Math.min(firstUsedAt, t);
      lastUsedAt = Math.max(lastUsedAt, t);
    }
    switch (String.valueOf(e.canonicalType())) {
      case "sign" -> {
        if (signing == null) {
          signing = new SigningHistory();
        }
        signing.add(t, e.id());
      }
      case "create" -> createdAt = Math.max(createdAt, t);
      case "rotate" -> lastRotatedAt = Math.max(lastRotatedAt, t);
      case "delete" -> deletedAt = Math.max(deletedAt, t);
      default -> { }
    }
    count(e, partnerThresholds);
    if (e.sourceIp() != null) {
      if (!ips.contains(e.sourceIp())) {
        SourceNetworks.Network network = SourceNetworks.Network.of(e.sourceIp());
        if (network != null) {
          networks.newAddress(network, t);
        }
      }
      ips.touch(e.sourceIp());
    }
    if (e.actor() != null) {
      actors.touch(e.actor());
    }
  }

  /** Records an incident of the rule, raised (or escalated) as given. */
  void open(String rule, Incident incident) {
    if (!(incidents instanceof HashMap)) {
      incidents = new HashMap<>(4);
    }
    incidents.put(rule, incident);
  }

  /** The threshold counters, as a map that takes new ones. */
  Map<Long, ThresholdCounter> counters() {
    if (!(thresholds instanceof HashMap)) {
      thresholds = new HashMap<>(4);
    }
    return thresholds;
  }

  /** Counts the event for every threshold it matches; forgets counters of deleted thresholds. */
  private void count(EventFacts e, List<Threshold> partnerThresholds) {
    if (partnerThresholds.isEmpty() && thresholds.isEmpty()) {
      return;
    }
    counters().keySet().removeIf(id -> partnerThresholds.stream().noneMatch(th -> th.id() == id));
    for (Threshold th : partnerThresholds) {
      if (th.matches(e.keyId(), e.eventType(), e.canonicalType())) {
        counters().computeIfAbsent(th.id(), id -> new ThresholdCounter(Threshold.Window.of(th.window())))
            .buckets.add(e.occurredAt());
      }
    }
  }

  boolean deleted() {
    return deletedAt != NEVER && deletedAt >= createdAt;
  }

  /** When rotation is next due: last rotation, else creation, else first event, plus the policy. */
  long rotationBase() {
    return lastRotatedAt != NEVER ? lastRotatedAt : createdAt != NEVER ? createdAt : firstEventAt;
  }

  /** Roughly what the state weighs as checkpoint bytes (and so in memory, give or take headers). */
  int bytes() {
    int size = 96 + ips.bytes() + actors.bytes() + networks.bytes() + incidents.size() * 32;
    if (signing != null) {
      size += signing.bytes();
    }
    for (ThresholdCounter c : thresholds.values()) {
      size += 25 + c.buckets.bytes();
    }
    return size;
  }
}
