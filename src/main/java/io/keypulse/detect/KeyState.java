package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The behavioural state of one key, as its owning shard keeps it. All times are event times
 * (epoch millis). Signing counters are allocated on the first signing: keys that never sign stay small.
 */
final class KeyState {
  static final long MINUTE = 60_000L;
  static final long HOUR = 60 * MINUTE;
  static final long DAY = 24 * HOUR;
  static final int SEEN_LIMIT = 256;
  static final long NEVER = Long.MIN_VALUE;

  long lastEventId;
  long eventCount;
  long firstEventAt = NEVER;
  long lastEventAt = NEVER;
  /** 169 hours: the 168 that make the 7-day baseline plus the current one. */
  TimeBuckets signHours;
  /** The trailing hour, by minute. */
  TimeBuckets signMinutes;
  long signCount;
  long lastSignAt = NEVER;
  final RecentSet ips = new RecentSet(SEEN_LIMIT);
  final RecentSet actors = new RecentSet(SEEN_LIMIT);
  long createdAt = NEVER;
  long deletedAt = NEVER;
  long lastRotatedAt = NEVER;
  long rotationAlertedAt = NEVER;
  /** rule/severity -> event time it last raised an alert, for suppression. */
  final Map<String, Long> lastFired = new HashMap<>();
  final Map<Long, ThresholdCounter> thresholds = new HashMap<>();
  /** Per-key overrides (PATCH /api/keys): null means the partner's policy. */
  Integer rotationPolicyDays;
  BusinessHours businessHours;

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

  boolean learning(Policy policy) {
    return firstEventAt == NEVER || lastEventAt - firstEventAt < policy.learningMillis();
  }

  /** Folds one event into the state; the detectors look at the state before and after. */
  void apply(EventFacts e, List<Threshold> partnerThresholds) {
    long t = e.occurredAt();
    lastEventId = Math.max(lastEventId, e.id());
    eventCount++;
    firstEventAt = firstEventAt == NEVER ? t : Math.min(firstEventAt, t);
    lastEventAt = Math.max(lastEventAt, t);
    if ("sign".equals(e.canonicalType())) {
      sign(t);
    }
    if ("create".equals(e.canonicalType())) {
      createdAt = Math.max(createdAt, t);
    }
    if ("rotate".equals(e.canonicalType())) {
      lastRotatedAt = Math.max(lastRotatedAt, t);
    }
    if ("delete".equals(e.canonicalType())) {
      deletedAt = Math.max(deletedAt, t);
    }
    count(e, partnerThresholds);
    if (e.sourceIp() != null) {
      ips.touch(e.sourceIp());
    }
    if (e.actor() != null) {
      actors.touch(e.actor());
    }
  }

  /** Counts the event for every threshold it matches; forgets counters of deleted thresholds. */
  private void count(EventFacts e, List<Threshold> partnerThresholds) {
    if (partnerThresholds.isEmpty() && thresholds.isEmpty()) {
      return;
    }
    thresholds.keySet().removeIf(id -> partnerThresholds.stream().noneMatch(th -> th.id() == id));
    for (Threshold th : partnerThresholds) {
      if (th.matches(e.keyId(), e.eventType(), e.canonicalType())) {
        thresholds.computeIfAbsent(th.id(), id -> new ThresholdCounter(Threshold.Window.of(th.window())))
            .buckets.add(e.occurredAt());
      }
    }
  }

  boolean deleted() {
    return deletedAt != NEVER && deletedAt >= createdAt;
  }

  private void sign(long t) {
    if (signHours == null) {
      signHours = new TimeBuckets(HOUR, 169);
      signMinutes = new TimeBuckets(MINUTE, 60);
    }
    signHours.add(t);
    signMinutes.add(t);
    signCount++;
    lastSignAt = Math.max(lastSignAt, t);
  }

  /** When rotation is next due: last rotation, else creation, else first event, plus the policy. */
  long rotationBase() {
    return lastRotatedAt != NEVER ? lastRotatedAt : createdAt != NEVER ? createdAt : firstEventAt;
  }

  int bytes() {
    int size = 120 + ips.bytes() + actors.bytes() + lastFired.size() * 48;
    if (signHours != null) {
      size += signHours.bytes() + signMinutes.bytes();
    }
    for (ThresholdCounter c : thresholds.values()) {
      size += 40 + c.buckets.bytes();
    }
    return size;
  }
}
