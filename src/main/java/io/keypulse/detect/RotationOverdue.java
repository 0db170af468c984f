package io.keypulse.detect;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * rotation_overdue: time since the last rotation (or creation) exceeds the key's rotation policy
 * (90 days). Checked on each recent event of the key and by the scheduler for idle keys; raised at
 * most once a day per key (wall clock).
 */
final class RotationOverdue implements Detector {
  static final String RULE = "rotation_overdue";

  @Override
  public void check(Observation o, List<Finding> found) {
    // A backfilled event describes the past; the scheduler covers keys that are quiet now.
    if (o.time() < o.wallClock() - KeyState.DAY) {
      return;
    }
    Finding finding = due(o.state(), o.rotationDays(), o.time(), o.wallClock());
    if (finding != null) {
      found.add(finding);
    }
  }

  /** The alert if the key is overdue at {@code asOf} and has not been told so in the last day. */
  static Finding due(KeyState s, int policyDays, long asOf, long wallClock) {
    long base = s.rotationBase();
    if (base == KeyState.NEVER || s.deleted()
        || (s.rotationAlertedAt != KeyState.NEVER && wallClock - s.rotationAlertedAt < KeyState.DAY)) {
      return null;
    }
    long ageDays = (asOf - base) / KeyState.DAY;
    if (asOf - base <= policyDays * KeyState.DAY) {
      return null;
    }
    String last = Instant.ofEpochMilli(base).toString();
    JsonObject evidence = Finding.evidence(policyDays, ageDays, policyDays, "since last rotation")
        .put("last_rotated", last).put("overdue_by_days", ageDays - policyDays).put("policy_window_days", policyDays);
    String severity = ageDays > 2L * policyDays ? "critical" : "warning";
    return new Finding(RULE, RULE, severity, "critical".equals(severity) ? Finding.CRITICAL_SCORE : Finding.WARNING_SCORE,
        "Key not rotated in " + ageDays + " days (policy: " + policyDays + "d)", evidence, false);
  }
}
