package io.keypulse.detect;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * off_hours_signing: a signing outside the key's business hours, when it has them; otherwise a
 * signing at an hour of the day the key does not use. "Uses" is about days, not shares: an hour is
 * usual when, on at least off_hours_max_share_pct % of the days observed (up to 14; any one day with
 * the default of 2 %), the key signed in it or in the hour on either side. So a nightly batch at
 * 02:00 is usual however small its share of the day's signings, the quiet hours of a round-the-clock
 * key are usual, and a signing half an hour after an office window closes is judged with the edge
 * of the window in mind. The judgement needs three observed days and off_hours_min_history signings,
 * and the silence must mean something: a key signing uniformly would have put at least
 * {@value #SIGNIFICANT} signings in those hours over the days observed.
 */
final class OffHoursSigning implements Detector {
  private static final String RULE = "off_hours_signing";
  private static final int MIN_DAYS = 3;
  private static final double SIGNIFICANT = 15;

  @Override
  public void check(Observation o, List<Finding> found) {
    if (!o.is("sign") || o.signingLearning()) {
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
    SeasonalBaseline b = o.baseline();
    int days = b.daysObserved();
    if (days < MIN_DAYS || b.historyTotal() < o.policy().offHoursMinHistory()
        || 3 * days * b.flatRph() < SIGNIFICANT) {
      return;
    }
    double usedPct = 100.0 * b.daysUsed() / days;
    if (b.daysUsed() > 0 && usedPct >= o.policy().offHoursMaxSharePct()) {
      return;
    }
    int hourOfDay = Instant.ofEpochMilli(o.time()).atOffset(ZoneOffset.UTC).getHour();
    String slot = String.format("%02d:00 UTC", hourOfDay);
    String around = String.format("%02d:00–%02d:00 UTC", (hourOfDay + 23) % 24, (hourOfDay + 2) % 24);
    found.add(Finding.anomaly(RULE, false, "Signing at " + slot + "; this key signed between " + around + " on "
            + b.daysUsed() + " of the last " + days + " days",
        Finding.evidence(b.historyTotal(), b.daysUsed(), "signing there on " + o.policy().offHoursMaxSharePct()
            + "% of days observed", "previous " + days + " days, " + around)
            .put("days_observed", days).put("days_used", b.daysUsed())
            .put("expected_if_uniform", Detector.round(3 * days * b.flatRph()))));
  }
}
