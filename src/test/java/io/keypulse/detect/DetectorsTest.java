package io.keypulse.detect;

import static io.keypulse.detect.KeyHistory.DAY;
import static io.keypulse.detect.KeyHistory.HOUR;
import static io.keypulse.detect.KeyHistory.MINUTE;
import static io.keypulse.detect.KeyHistory.rules;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every detector of SPEC §5: a case that must fire, with its fields, and a near miss that must not. */
@DisplayName("Detectors")
class DetectorsTest {
  /** Wednesday 2026-11-18 12:00 UTC: "now" for these histories. */
  static final long NOW = Instant.parse("2026-11-18T12:00:00Z").toEpochMilli();

  @Nested
  @DisplayName("signing_volume_spike")
  class Spike {
    @Test
    @DisplayName("warns at 5× the key's usual rate for the hour, escalates to critical at 10×, evidence included")
    void fires() {
      KeyHistory key = new KeyHistory(NOW);
      // Eight days: a week of weekdays and weekends seen, so the weekday profile applies.
      key.steady(NOW - 192 * HOUR, NOW, 10, key::sign);
      // The trailing hour at NOW+30 min also holds 4 signings of the previous hour (minutes 36 to 54).
      List<KeyDetector.Outcome> burst = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        burst.add(key.sign().at(NOW + 30 * MINUTE + i * 1000));
      }
      assertThat(burst.subList(0, 45)).allMatch(o -> o.alerts().isEmpty());
      Finding warning = burst.get(45).alerts().get(0);
      assertThat(warning.rule()).isEqualTo("signing_volume_spike");
      assertThat(warning.severity()).isEqualTo("warning");
      assertThat(warning.kind()).isEqualTo("anomaly_detected");
      assertThat(warning.description()).isEqualTo("Signing rate 5.0× above usual for this hour on weekdays");
      assertThat(warning.evidence().getDouble("baseline")).isEqualTo(10.0);
      assertThat(warning.evidence().getLong("observed")).isEqualTo(50);
      assertThat(warning.evidence().getDouble("threshold")).isEqualTo(50.0);
      assertThat(warning.evidence().getString("window")).contains("60 min");
      assertThat(warning.evidence().getLong("current_rph")).isEqualTo(50);
      assertThat(warning.evidence().getString("profile")).isEqualTo("hour_of_day");
      assertThat(warning.evidence().getDouble("expected_rph")).isEqualTo(10.0);
      assertThat(warning.evidence().getJsonArray("days")).hasSize(5).contains("2026-11-17", "2026-11-11");
      assertThat(burst.get(45).score()).isBetween(0.6, 0.9);
      assertThat(burst.get(95).alerts()).as("one incident: the open alert escalates").isEmpty();
      Finding critical = burst.get(95).escalations().get(0);
      assertThat(critical.severity()).isEqualTo("critical");
      assertThat(critical.description()).isEqualTo("Signing rate 10× above usual for this hour on weekdays");
      assertThat(burst.get(95).score()).isGreaterThanOrEqualTo(0.9);
      assertThat(burst.subList(46, 95)).allMatch(o -> o.alerts().isEmpty()).allMatch(o -> o.repeats().size() == 1);
      assertThat(burst.subList(96, 100)).allMatch(o -> o.alerts().isEmpty() && o.escalations().isEmpty())
          .allMatch(o -> o.repeats().size() == 1);
    }

    @Test
    @DisplayName("stays quiet at 4.9× the baseline, and below 20 signings whatever the ratio")
    void nearMisses() {
      KeyHistory key = new KeyHistory(NOW);
      key.steady(NOW - 168 * HOUR, NOW, 10, key::sign);
      for (int i = 0; i < 45; i++) {
        KeyDetector.Outcome outcome = key.sign().at(NOW + 30 * MINUTE + i * 1000);
        assertThat(outcome.alerts()).as("trailing %d: at most 4.9×", i + 5).isEmpty();
        assertThat(outcome.score()).isLessThan(0.6);
      }
      KeyHistory quiet = new KeyHistory(NOW);
      quiet.steady(NOW - 168 * HOUR, NOW, 1, quiet::sign);
      for (int i = 0; i < 19; i++) {
        assertThat(quiet.sign().at(NOW + 30 * MINUTE + i * 1000).alerts()).as("19× but only 19 signings").isEmpty();
      }
    }

    @Test
    @DisplayName("does not fire while the key is learning (under 24 h of history)")
    void learning() {
      KeyHistory key = new KeyHistory(NOW);
      key.steady(NOW - 20 * HOUR, NOW, 2, key::sign);
      for (int i = 0; i < 200; i++) {
        assertThat(key.sign().at(NOW + i * 1000).alerts()).isEmpty();
      }
      assertThat(key.state.signingLearning(key.policy)).isTrue();
    }
  }

  @Nested
  @DisplayName("off_hours_signing")
  class OffHours {
    @Test
    @DisplayName("fires for a signing at an hour the key never used, nor the hours either side, in a week")
    void fires() {
      KeyHistory key = officeHoursKey();
      Finding f = key.sign().at(NOW + 15 * HOUR).alerts().get(0);
      assertThat(f.rule()).isEqualTo("off_hours_signing");
      assertThat(f.severity()).isEqualTo("warning");
      assertThat(f.description()).isEqualTo("Signing at 03:00 UTC; this key signed between 02:00–05:00 UTC on 0 of the "
          + "last 7 days");
      assertThat(f.evidence().getLong("observed")).isZero();
      assertThat(f.evidence().getInteger("days_observed")).isEqualTo(7);
      // Seven office days of 10 h × 20.
      assertThat(f.evidence().getLong("baseline")).isEqualTo(1400L);
    }

    @Test
    @DisplayName("stays quiet in office hours, and with fewer than 100 signings of history")
    void nearMisses() {
      assertThat(officeHoursKey().sign().at(NOW + 22 * HOUR + 5 * MINUTE).alerts()).isEmpty();
      KeyHistory sparse = new KeyHistory(NOW);
      for (long day = 7; day >= 1; day--) {
        sparse.steady(NOW - day * DAY - 3 * HOUR, NOW - day * DAY, 4, sparse::sign);
      }
      assertThat(sparse.sign().at(NOW + 15 * HOUR).alerts()).as("84 signings of history").isEmpty();
    }

    @Test
    @DisplayName("with business hours set, fires outside them and not inside")
    void businessHours() {
      KeyHistory key = new KeyHistory(NOW);
      key.steady(NOW - 48 * HOUR, NOW, 1, () -> key.event("key_accessed", "access"));
      key.state.businessHours = BusinessHours.parse(new JsonObject().put("timezone", "Europe/Paris")
          .put("days", new JsonArray().add("mon").add("tue").add("wed").add("thu").add("fri"))
          .put("start", "09:00").put("end", "17:00"));
      assertThat(key.sign().at(NOW).alerts()).as("Wednesday 13:00 in Paris").isEmpty();
      Finding f = key.sign().at(NOW + 3 * DAY).alerts().get(0);
      assertThat(f.description()).contains("outside business hours").contains("Europe/Paris");
    }

    /** A week of 20 signings an hour, 08:00 to 18:00 UTC only. */
    private KeyHistory officeHoursKey() {
      KeyHistory key = new KeyHistory(NOW);
      for (long day = 7; day >= 1; day--) {
        long eight = NOW - day * DAY - 4 * HOUR;
        key.steady(eight, eight + 10 * HOUR, 20, key::sign);
      }
      key.steady(NOW - 4 * HOUR, NOW - 2 * HOUR, 1, () -> key.event("key_accessed", "access"));
      return key;
    }
  }

  @Nested
  @DisplayName("new_source_ip and new_actor")
  class NewSources {
    @Test
    @DisplayName("an access from a never-seen IP warns; an export from one is critical")
    void fires() {
      KeyHistory key = history(20);
      Finding ip = key.event("key_accessed", "access").ip("203.0.113.77").actor("tx-processor").at(NOW).alerts().get(0);
      assertThat(ip.rule()).isEqualTo("new_source_ip");
      assertThat(ip.severity()).isEqualTo("warning");
      assertThat(ip.evidence().getString("observed")).isEqualTo("203.0.113.77");
      assertThat(ip.evidence().getLong("history_events")).isEqualTo(20);
      // The same rule inside the window: the open alert escalates to critical rather than a second alert.
      Finding export = key.event("export", "export").ip("198.51.100.9").actor("tx-processor").at(NOW + MINUTE)
          .escalations().get(0);
      assertThat(export.severity()).isEqualTo("critical");
      assertThat(export.description()).startsWith("Export from new IP 198.51.100.9");
      Finding actor = key.sign().ip("10.0.0.5").actor("intruder").at(NOW + 2 * MINUTE).alerts().get(0);
      assertThat(actor.rule()).isEqualTo("new_actor");
      assertThat(actor.description()).isEqualTo("Signing from new actor 'intruder' (1 known, 22 events of history)");
    }

    @Test
    @DisplayName("stays quiet for a known IP, and for a new one with under 20 events of history")
    void nearMisses() {
      assertThat(history(19).event("key_accessed", "access").ip("203.0.113.77").actor("tx-processor").at(NOW).alerts())
          .isEmpty();
      assertThat(history(40).sign().ip("10.0.0.5").actor("tx-processor").at(NOW).alerts()).isEmpty();
      assertThat(history(40).event("key_rotated", "rotate").ip("203.0.113.1").at(NOW).alerts())
          .as("rotations are not watched for new IPs").isEmpty();
    }

    /** {@code events} accesses from one IP and actor over the two days before NOW. */
    private KeyHistory history(int events) {
      KeyHistory key = new KeyHistory(NOW);
      for (int i = 0; i < events; i++) {
        key.event("key_accessed", "access").ip("10.0.0.5").actor("tx-processor").at(NOW - (events - i) * 2 * HOUR);
      }
      return key;
    }
  }

  @Nested
  @DisplayName("unauthorized_deletion")
  class Deletion {
    @Test
    @DisplayName("a delete by an unknown actor is critical; by a known one right after signing, a warning")
    void fires() {
      KeyHistory key = new KeyHistory(NOW);
      key.sign().actor("ops").at(NOW - 2 * HOUR);
      Finding unknown = key.event("key_deleted", "delete").actor("mallory").at(NOW).alerts().get(0);
      assertThat(unknown.severity()).isEqualTo("critical");
      assertThat(unknown.description()).isEqualTo("Key deleted by unknown actor 'mallory'");
      KeyHistory other = new KeyHistory(NOW);
      other.sign().actor("ops").at(NOW - 2 * HOUR);
      Finding recent = other.event("key_deleted", "delete").actor("ops").at(NOW).alerts().get(0);
      assertThat(recent.severity()).isEqualTo("warning");
      assertThat(recent.description()).isEqualTo("Key deleted 120 min after it last signed");
      assertThat(new KeyHistory(NOW).event("key_deleted", "delete").at(NOW).alerts().get(0).description())
          .isEqualTo("Key deleted without an actor");
    }

    @Test
    @DisplayName("stays quiet for a known actor deleting a key idle for 25 hours")
    void nearMiss() {
      KeyHistory key = new KeyHistory(NOW);
      key.sign().actor("ops").at(NOW - 25 * HOUR);
      assertThat(key.event("key_deleted", "delete").actor("ops").at(NOW).alerts()).isEmpty();
    }
  }

  @Nested
  @DisplayName("policy_violation and critical_event")
  class Reported {
    @Test
    @DisplayName("every policy event alerts (critical when the event is); an event reported critical alerts")
    void fires() {
      KeyHistory key = new KeyHistory(NOW);
      Finding policy = key.event("policy_violation", "policy").policy("withdrawal_limit").at(NOW).alerts().get(0);
      assertThat(policy.rule()).isEqualTo("policy_violation");
      assertThat(policy.severity()).isEqualTo("warning");
      assertThat(policy.description()).isEqualTo("Policy violation reported: withdrawal_limit");
      KeyDetector.Outcome both = key.event("policy_violation", "policy").critical().at(NOW + MINUTE);
      assertThat(rules(both)).containsExactly("critical_event:critical");
      assertThat(both.escalations()).extracting(Finding::severity).containsExactly("critical");
      assertThat(both.score()).isGreaterThanOrEqualTo(0.9);
    }

    @Test
    @DisplayName("a nominal custom event raises nothing and scores 0")
    void nearMiss() {
      KeyDetector.Outcome outcome = new KeyHistory(NOW).event("hsm.audit", null).at(NOW);
      assertThat(outcome.alerts()).isEmpty();
      assertThat(outcome.score()).isZero();
    }
  }

  @Nested
  @DisplayName("rotation_overdue")
  class Rotation {
    @Test
    @DisplayName("fires on an event of a key created 97 days ago (policy 90), once a day")
    void fires() {
      KeyHistory key = new KeyHistory(NOW);
      key.event("key_created", "create").at(NOW - 97 * DAY);
      Finding f = key.sign().at(NOW).alerts().get(0);
      assertThat(f.rule()).isEqualTo("rotation_overdue");
      assertThat(f.kind()).isEqualTo("rotation_overdue");
      assertThat(f.severity()).isEqualTo("warning");
      assertThat(f.description()).isEqualTo("Key not rotated in 97 days (policy: 90d)");
      assertThat(f.evidence().getLong("overdue_by_days")).isEqualTo(7);
      assertThat(f.evidence().getInteger("policy_window_days")).isEqualTo(90);
      assertThat(f.evidence().getString("last_rotated")).isEqualTo(Instant.ofEpochMilli(NOW - 97 * DAY).toString());
      assertThat(key.sign().at(NOW + HOUR).alerts()).as("at most once a day").isEmpty();
      key.wallClock += DAY + HOUR;
      assertThat(rules(key.sign().at(NOW + DAY + HOUR))).containsExactly("rotation_overdue:warning");
    }

    @Test
    @DisplayName("stays quiet for a rotation 89 days ago; a per-key policy of 30 days fires at 31")
    void nearMissAndOverride() {
      KeyHistory key = new KeyHistory(NOW);
      key.event("key_created", "create").at(NOW - 200 * DAY);
      key.event("key_rotated", "rotate").at(NOW - 89 * DAY);
      assertThat(key.sign().at(NOW).alerts()).isEmpty();
      KeyHistory strict = new KeyHistory(NOW);
      strict.state.rotationPolicyDays = 30;
      strict.event("key_created", "create").at(NOW - 31 * DAY);
      assertThat(rules(strict.sign().at(NOW))).containsExactly("rotation_overdue:warning");
    }
  }

  @Nested
  @DisplayName("thresholds")
  class Thresholds {
    @Test
    @DisplayName("warn at 80 %, critical at 100 %, each once per window, with the threshold's name as rule")
    void fires() {
      KeyHistory key = new KeyHistory(NOW);
      key.thresholds = List.of(new Threshold(7, "p_test", "daily_signing_cap", "signing_operation", null, 10, "24h", 80,
          null));
      List<List<String>> seen = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        seen.add(rules(key.sign().at(NOW + i * MINUTE)));
      }
      assertThat(seen.subList(0, 7)).allMatch(List::isEmpty);
      assertThat(seen.get(7)).containsExactly("daily_signing_cap:warning");
      assertThat(seen.get(8)).isEmpty();
      assertThat(seen.get(9)).containsExactly("daily_signing_cap:critical");
      assertThat(seen.subList(10, 12)).allMatch(List::isEmpty);
      KeyHistory fresh = new KeyHistory(NOW);
      fresh.thresholds = key.thresholds;
      for (int i = 0; i < 7; i++) {
        fresh.sign().at(NOW + i * MINUTE);
      }
      Finding warning = fresh.sign().at(NOW + 7 * MINUTE).alerts().get(0);
      assertThat(warning.kind()).isEqualTo("threshold_breach");
      assertThat(warning.description()).isEqualTo("daily_signing_cap 80% reached: 8 of 10 signing_operation in 24h");
      assertThat(warning.evidence().getLong("current")).isEqualTo(8);
      assertThat(warning.evidence().getInteger("threshold")).isEqualTo(10);
      assertThat(warning.evidence().getString("window")).isEqualTo("24h");
    }

    @Test
    @DisplayName("seven of ten, or events of another type or key, stay quiet")
    void nearMiss() {
      KeyHistory key = new KeyHistory(NOW);
      key.thresholds = List.of(new Threshold(7, "p_test", "cap", "sign", "key-1", 10, "1h", 80, null),
          new Threshold(8, "p_test", "other", "signing_operation", "key-2", 1, "1h", 80, null));
      for (int i = 0; i < 7; i++) {
        assertThat(key.sign().at(NOW + i * MINUTE).alerts()).isEmpty();
      }
      for (int i = 0; i < 20; i++) {
        assertThat(key.event("key_accessed", "access").at(NOW + i * MINUTE).alerts()).isEmpty();
      }
    }
  }

  @Nested
  @DisplayName("provisioning_spike")
  class Provisioning {
    @Test
    @DisplayName("fires when creations in an hour reach 5× the partner's baseline and 10; 9 stay quiet")
    void firesAndNearMiss() {
      PartnerState partner = new PartnerState();
      for (long h = 168; h >= 1; h--) {
        partner.apply(h, NOW - h * HOUR);
      }
      Finding f = null;
      for (int i = 0; i < 12 && f == null; i++) {
        partner.apply(1000 + i, NOW + i * MINUTE);
        f = ProvisioningSpike.check(partner, NOW + i * MINUTE, KeyHistory.DEFAULTS);
        if (i < 9) {
          assertThat(f).as("creation " + (i + 1)).isNull();
        }
      }
      assertThat(f).isNotNull();
      assertThat(f.rule()).isEqualTo("provisioning_spike");
      assertThat(f.evidence().getLong("observed")).isEqualTo(10);
      assertThat(f.description()).isEqualTo("Key creations 10× above 7-day baseline");
    }
  }

  @Nested
  @DisplayName("suppression and state")
  class Suppression {
    @Test
    @DisplayName("a repeat within an hour is counted, not raised; after the hour it alerts again")
    void suppression() {
      KeyHistory key = new KeyHistory(NOW);
      KeyDetector.Outcome first = key.event("policy_violation", "policy").at(NOW);
      KeyDetector.Outcome again = key.event("policy_violation", "policy").at(NOW + 30 * MINUTE);
      KeyDetector.Outcome later = key.event("policy_violation", "policy").at(NOW + 61 * MINUTE);
      assertThat(first.alerts()).hasSize(1);
      assertThat(again.alerts()).isEmpty();
      assertThat(again.repeats()).extracting(Finding::rule).containsExactly("policy_violation");
      assertThat(later.alerts()).hasSize(1);
    }

    @Test
    @DisplayName("a week of state fits the 1 KiB budget and survives its checkpoint bytes unchanged")
    void checkpoint() {
      KeyHistory key = new KeyHistory(NOW);
      key.steady(NOW - 168 * HOUR, NOW, 6, () -> key.sign().ip("10.0.0." + (int) (Math.random() * 8)).actor("svc"));
      byte[] bytes = KeyStateCodec.write(key.state);
      assertThat(key.state.bytes()).isLessThanOrEqualTo(1024);
      assertThat(bytes.length).isLessThanOrEqualTo(1024);
      assertThat(KeyStateCodec.write(KeyStateCodec.read(bytes))).isEqualTo(bytes);
      KeyState copy = KeyStateCodec.read(bytes);
      assertThat(copy.signing.hours(0, Long.MAX_VALUE)).isEqualTo(key.state.signing.hours(0, Long.MAX_VALUE));
      assertThat(copy.ips.contains("10.0.0.3")).isTrue();
    }
  }
}
