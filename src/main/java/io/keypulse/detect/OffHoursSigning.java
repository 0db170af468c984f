package io.keypulse.detect;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * off_hours_signing: a signing outside the key's business hours, or (with at least 100 signings in
 * the last 7 days) in an hour of the day that held under 2 % of them. "Under" is judged with the
 * count's noise in mind: the hour's count plus two standard deviations (Poisson) must stay under
 * 2 %, so a normal hour having a quiet week does not fire, while an hour with (almost) no signings
 * does. The share is only judged once the key has lived three days: before that, some hours of the
 * day have not come round often enough to say the key never signs then.
 */
final class OffHoursSigning implements Detector {
  private static final String RULE = "off_hours_signing";
  private static final long MIN_HISTORY = 3 * KeyState.DAY;

  @Override
  public void check(Observation o, List<Finding> found) {
    if (!o.is("sign") || o.learning()) {
      return;
    }
    BusinessHours hours = o.businessHours();
    if (hours != null) {
      if (!hours.contains(Instant.ofEpochMilli(o.time()))) {
        String local = Instant.ofEpochMilli(o.time()).atZone(hours.zone()).toLocalTime().withNano(0).toString();
        found.add(Finding.anomaly(RULE, false, "Signing at " + local + " outside business hours (" + hours.describe() + ")",
            Finding.evidence(hours.toJson(), local, "inside business hours", "business hours")));
      }
      return;
    }
    KeyState s = o.state();
    long hour = s.signHours.bucketOf(o.time());
    long total = s.signHours.sum(hour - 168, hour - 1);
    if (total < o.policy().offHoursMinHistory() || o.time() - s.firstEventAt < MIN_HISTORY) {
      return;
    }
    long sameHour = 0;
    for (int day = 1; day <= 7; day++) {
      sameHour += s.signHours.count(hour - 24L * day);
    }
    double sharePct = 100.0 * sameHour / total;
    double upperPct = 100.0 * (sameHour + 2 * Math.sqrt(sameHour + 1)) / total;
    if (upperPct < o.policy().offHoursMaxSharePct()) {
      int hourOfDay = Instant.ofEpochMilli(o.time()).atOffset(ZoneOffset.UTC).getHour();
      String slot = String.format("%02d:00 UTC", hourOfDay);
      found.add(Finding.anomaly(RULE, false, "Signing at " + slot + ", an hour holding " + Detector.round(sharePct)
              + "% of this key's signings over 7 days",
          Finding.evidence(total, sameHour, o.policy().offHoursMaxSharePct() + "% of signings", "previous 7 days, "
              + slot).put("share_pct", Detector.round(sharePct))));
    }
  }
}
