package io.keypulse.detect;

import static io.keypulse.detect.KeyHistory.DAY;
import static io.keypulse.detect.KeyHistory.HOUR;
import static io.keypulse.detect.KeyHistory.MINUTE;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Keys shaped like real fleets: what is usual for them stays quiet, what is not still fires. */
@DisplayName("Seasonal detection")
class SeasonalDetectorsTest {
  /** Monday 2026-11-16 00:00 UTC: the start of a working week. */
  static final long MONDAY = Instant.parse("2026-11-16T00:00:00Z").toEpochMilli();

  /** Every alert and escalation the key raised while {@code body} ran. */
  private static List<String> raised(KeyHistory key, Runnable body) {
    List<String> seen = new ArrayList<>();
    key.listener = outcome -> {
      outcome.alerts().forEach(f -> seen.add(f.rule() + ":" + f.severity()));
      outcome.escalations().forEach(f -> seen.add(f.rule() + ":escalated"));
    };
    body.run();
    key.listener = null;
    return seen;
  }

  /** Signs {@code perHour} times (spread evenly) in each hour of [from, to), with a fixed IP and actor. */
  private static void sign(KeyHistory key, long from, long to, int perHour) {
    for (long hour = from; hour < to; hour += HOUR) {
      for (int i = 0; i < perHour; i++) {
        key.sign().ip("10.1.1.1").actor("svc").at(hour + i * (HOUR / perHour));
      }
    }
  }

  @Nested
  @DisplayName("signing_volume_spike")
  class Spikes {
    @Test
    @DisplayName("an office key signing 09:00–13:00 on weekdays raises nothing over two weeks, weekends included")
    void officeKey() {
      KeyHistory key = new KeyHistory(MONDAY);
      List<String> alerts = raised(key, () -> {
        for (int day = 0; day < 14; day++) {
          long midnight = MONDAY + day * DAY;
          if (day % 7 < 5) {
            sign(key, midnight + 9 * HOUR, midnight + 13 * HOUR, 30);
          }
        }
      });
      assertThat(alerts).isEmpty();
    }

    @Test
    @DisplayName("a nightly batch of 300 in ten minutes around 02:00 is neither a spike nor off hours, early or late")
    void nightlyBatch() {
      KeyHistory key = new KeyHistory(MONDAY);
      Random random = new Random(3);
      List<String> alerts = raised(key, () -> {
        for (int day = 0; day < 10; day++) {
          // Mostly a few minutes after 02:00; on the last night, a few minutes before.
          long start = MONDAY + day * DAY + 2 * HOUR + (day == 9 ? -4 : random.nextInt(6)) * MINUTE;
          for (int i = 0; i < 300; i++) {
            key.sign().ip("10.1.1.1").actor("batch").at(start + i * 2000L);
          }
        }
      });
      assertThat(alerts).isEmpty();
    }

    @Test
    @DisplayName("a 10× burst in a round-the-clock key's quiet hour is critical, though under 5× its daily average")
    void quietHourSpike() {
      KeyHistory key = new KeyHistory(MONDAY);
      // 3:1 peak to trough: 30 an hour from 08:00 to 20:00, 10 an hour at night.
      List<String> normal = raised(key, () -> {
        for (long hour = MONDAY; hour < MONDAY + 8 * DAY; hour += HOUR) {
          int h = (int) (hour / HOUR % 24);
          sign(key, hour, hour + HOUR, h >= 8 && h < 20 ? 30 : 10);
        }
      });
      assertThat(normal).as("a diurnal key's own rhythm").isEmpty();
      long threeAm = MONDAY + 8 * DAY + 3 * HOUR;
      List<String> spike = raised(key, () -> {
        for (int i = 0; i < 100; i++) {
          key.sign().ip("10.1.1.1").actor("svc").at(threeAm + i * 30_000L);
        }
      });
      assertThat(spike).containsExactly("signing_volume_spike:warning", "signing_volume_spike:escalated");
      JsonObject evidence = key.last.escalations().isEmpty() ? null : key.last.escalations().get(0).evidence();
      assertThat(key.state.incidents.get("signing_volume_spike").severity).isEqualTo("critical");
      assertThat(evidence == null || evidence.getDouble("expected_rph") <= 10.0).isTrue();
    }

    @Test
    @DisplayName("an office key in UTC−8 seen for six days: a 11× burst in its window is critical, its days off inflate nothing")
    void firstWeekSpike() {
      KeyHistory key = new KeyHistory(MONDAY);
      // Local Mon–Fri 09:00–15:00 at UTC−8 is 17:00–23:00 UTC; first seen on Thursday.
      List<String> normal = raised(key, () -> {
        for (int day : new int[] {3, 4, 7, 8}) {
          sign(key, MONDAY + day * DAY + 17 * HOUR, MONDAY + day * DAY + 23 * HOUR, 10);
        }
        sign(key, MONDAY + 9 * DAY + 17 * HOUR, MONDAY + 9 * DAY + 19 * HOUR, 10);
      });
      assertThat(normal).isEmpty();
      List<String> spike = raised(key, () -> {
        for (int i = 0; i < 110; i++) {
          key.sign().ip("10.1.1.1").actor("svc").at(MONDAY + 9 * DAY + 19 * HOUR + i * 25_000L);
        }
      });
      assertThat(spike).contains("signing_volume_spike:escalated");
    }

    @Test
    @DisplayName("a key growing 15 % a day for two weeks raises nothing, on its second weekend either")
    void growth() {
      KeyHistory key = new KeyHistory(MONDAY);
      List<String> alerts = raised(key, () -> {
        for (int day = 0; day < 14; day++) {
          sign(key, MONDAY + day * DAY, MONDAY + (day + 1) * DAY, (int) Math.round(4 * Math.pow(1.15, day)));
        }
      });
      assertThat(alerts).isEmpty();
    }
  }

  @Nested
  @DisplayName("the baseline")
  class Baseline {
    @Test
    @DisplayName("a key growing 15 % a day is expected at today's level, not at last weekend's")
    void scaledToGrowth() {
      SigningHistory h = new SigningHistory();
      long id = 1;
      for (int day = 0; day < 14; day++) {
        int perHour = (int) Math.round(4 * Math.pow(1.15, day));
        for (long hour = MONDAY + day * DAY; hour < MONDAY + (day + 1) * DAY; hour += HOUR) {
          for (int i = 0; i < perHour; i++) {
            h.add(hour + i * (HOUR / perHour), id++);
          }
        }
      }
      SeasonalBaseline sunday = SeasonalBaseline.of(h, MONDAY + 13 * DAY + 13 * HOUR, java.time.ZoneOffset.UTC, true);
      assertThat(sunday.dayClass()).isEqualTo("weekend");
      // Unscaled, the weekend samples (this Saturday, last Sunday and Saturday) have an upper median of 9.
      assertThat(sunday.expectedRph()).isBetween(22.0, 27.0);
    }
  }

  @Nested
  @DisplayName("off_hours_signing")
  class OffHours {
    @Test
    @DisplayName("30 minutes after the usual window stays quiet; three hours after fires")
    void windowEdge() {
      KeyHistory key = new KeyHistory(MONDAY);
      for (int day = 0; day < 5; day++) {
        sign(key, MONDAY + day * DAY + 9 * HOUR, MONDAY + day * DAY + 14 * HOUR, 20);
      }
      long friday = MONDAY + 4 * DAY;
      assertThat(raised(key, () -> key.sign().ip("10.1.1.1").actor("svc").at(friday + 14 * HOUR + 30 * MINUTE)))
          .isEmpty();
      assertThat(raised(key, () -> key.sign().ip("10.1.1.1").actor("svc").at(friday + 17 * HOUR)))
          .containsExactly("off_hours_signing:warning");
    }

    @Test
    @DisplayName("a quiet round-the-clock key signing in its trough never reads as off hours")
    void diurnalTrough() {
      KeyHistory key = new KeyHistory(MONDAY);
      Random random = new Random(5);
      List<String> alerts = raised(key, () -> {
        for (long hour = MONDAY; hour < MONDAY + 9 * DAY; hour += HOUR) {
          double phase = 2 * Math.PI * (hour / HOUR % 24) / 24;
          double rate = 4 * (1 + 0.5 * Math.sin(phase));
          for (int i = 0; i < poisson(random, rate); i++) {
            key.sign().ip("10.1.1.1").actor("svc").at(hour + random.nextInt((int) HOUR));
          }
        }
      });
      assertThat(alerts).isEmpty();
    }

    private static int poisson(Random r, double lambda) {
      double limit = Math.exp(-lambda);
      double p = 1;
      int k = 0;
      while ((p *= r.nextDouble()) > limit) {
        k++;
      }
      return k;
    }
  }

  @Nested
  @DisplayName("learning")
  class Learning {
    @Test
    @DisplayName("an onboarded key with a 35-day-old creation learns from its signings: a normal first day is quiet")
    void onboarding() {
      KeyHistory key = new KeyHistory(MONDAY);
      long start = MONDAY + 3 * DAY + 10 * HOUR;
      List<String> alerts = raised(key, () -> {
        key.event("key_created", "create").actor("ops").at(start - 35 * DAY);
        key.event("key_rotated", "rotate").actor("ops").at(start - 20 * DAY);
        for (int i = 0; i < 30; i++) {
          key.sign().ip("10.1.1.1").actor("svc").at(start + i * 2 * MINUTE);
        }
        assertThat(key.state.signingLearning(key.policy)).isTrue();
        sign(key, start + HOUR, start + 24 * HOUR, 6);
      });
      assertThat(alerts).isEmpty();
      key.sign().ip("10.1.1.1").actor("svc").at(start + 24 * HOUR + MINUTE);
      assertThat(key.state.signingLearning(key.policy)).as("24 h of observed signings").isFalse();
    }
  }

  @Nested
  @DisplayName("new_source_ip")
  class Networks {
    @Test
    @DisplayName("a signer in autoscaled pods (a new address in one /24 every 3 h) raises nothing in a week")
    void pods() {
      KeyHistory key = new KeyHistory(MONDAY);
      List<String> alerts = raised(key, () -> {
        for (int n = 0; n < 56; n++) {
          String pod = "10.8.3." + (10 + n);
          for (int i = 0; i < 12; i++) {
            key.sign().ip(pod).actor("svc-signer").at(MONDAY + n * 3 * HOUR + i * 15 * MINUTE);
          }
        }
      });
      // Its first day (learning) already shows eight addresses in the /24: churn, not news.
      assertThat(alerts).isEmpty();
      Finding outside = key.sign().ip("203.0.113.9").actor("svc-signer").at(MONDAY + 7 * DAY).alerts().get(0);
      assertThat(outside.rule()).isEqualTo("new_source_ip");
      assertThat(outside.evidence().getJsonArray("known_networks").getJsonObject(0))
          .isEqualTo(new JsonObject().put("network", "10.8.3.0/24").put("addresses", 56));
    }

    @Test
    @DisplayName("a key with two stable addresses in a /24 still alerts on a third one there")
    void stableAddresses() {
      KeyHistory key = new KeyHistory(MONDAY);
      for (int i = 0; i < 40; i++) {
        key.sign().ip("10.0.0." + (1 + i % 2)).actor("svc").at(MONDAY + i * HOUR);
      }
      assertThat(KeyHistory.rules(key.sign().ip("10.0.0.9").actor("svc").at(MONDAY + 40 * HOUR)))
          .containsExactly("new_source_ip:warning");
    }
  }

  @Nested
  @DisplayName("new_source_ip, learning")
  class SourceLearning {
    @Test
    @DisplayName("a key's first day of use is learning for new sources, whatever its creation date says")
    void firstDay() {
      KeyHistory key = new KeyHistory(MONDAY);
      key.event("key_created", "create").actor("ops").at(MONDAY - 35 * DAY);
      for (int i = 0; i < 30; i++) {
        key.sign().ip("10.1.1.1").actor("svc").at(MONDAY + i * MINUTE);
      }
      assertThat(key.sign().ip("192.0.2.7").actor("svc").at(MONDAY + HOUR).alerts()).as("first hour of use").isEmpty();
      sign(key, MONDAY + 2 * HOUR, MONDAY + 25 * HOUR, 2);
      assertThat(KeyHistory.rules(key.sign().ip("198.51.100.7").actor("svc").at(MONDAY + 25 * HOUR)))
          .containsExactly("new_source_ip:warning");
    }
  }

  @Nested
  @DisplayName("exceptions and memory")
  class Exceptions {
    @Test
    @DisplayName("a finding a partner exception matches raises nothing, is counted, and still scores the event")
    void muted() {
      KeyHistory key = new KeyHistory(MONDAY);
      key.mutes = (rule, event) -> "policy_violation".equals(rule) && "ops".equals(event.actor()) ? 42L : null;
      KeyDetector.Outcome outcome = key.event("policy_violation", "policy").actor("ops").at(MONDAY);
      assertThat(outcome.alerts()).isEmpty();
      assertThat(outcome.mutedBy()).containsExactly(42L);
      assertThat(outcome.score()).isGreaterThanOrEqualTo(0.6);
      assertThat(KeyHistory.rules(key.event("policy_violation", "policy").actor("eve").at(MONDAY + MINUTE)))
          .containsExactly("policy_violation:warning");
    }

    @Test
    @DisplayName("two weeks of a busy key's state, IPs and actors included, checkpoint in under 1 KiB")
    void budget() {
      KeyHistory key = new KeyHistory(MONDAY);
      Random random = new Random(9);
      for (long hour = MONDAY; hour < MONDAY + 14 * DAY; hour += HOUR) {
        for (int i = 0; i < 40; i++) {
          key.sign().ip("10.2.0." + random.nextInt(3)).actor("svc-" + random.nextInt(2)).at(hour + i * MINUTE);
        }
        key.event("key_accessed", "access").ip("10.2.0.1").actor("ops").at(hour + 50 * MINUTE);
      }
      assertThat(KeyStateCodec.write(key.state).length).isLessThanOrEqualTo(1024);
      assertThat(key.state.bytes()).isLessThanOrEqualTo(1024);
    }
  }
}
