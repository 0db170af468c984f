package io.keypulse.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.EventFacts;
import io.keypulse.bus.ProvisionVerdict;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("An event's score is a decimal of three places, and its derived severity follows that decimal")
class VerdictScoreTest {
  private static final EventFacts SIGNING = new EventFacts(7, "p_test", "key-1", "signing_operation", "sign", null,
      true, null, null, null, 0, 0, 0);

  @Test
  @DisplayName("0.4375293 is scored 0.438: what REST, live and the store all show")
  void roundsToThreePlaces() {
    assertThat(verdict(0.4375293).score()).isEqualTo(0.438);
    assertThat(Double.toString(verdict(0.1 * 3).score())).as("0.1 * 3 is 0.30000000000000004").isEqualTo("0.3");
  }

  @Test
  @DisplayName("0.8996 rounds to 0.9 and is critical, as a partner reading 0.9 expects")
  void severityOfTheRoundedScore() {
    Verdict v = verdict(0.8996);
    assertThat(v.score()).isEqualTo(0.9);
    assertThat(v.derivedSeverity()).isEqualTo("critical");
  }

  private static Verdict verdict(double score) {
    KeyDetector.Outcome outcome = new KeyDetector.Outcome(score, List.of(), List.of(), List.of(), List.of());
    return Verdict.of(SIGNING, outcome, ProvisionVerdict.NONE, Mutes.NONE, DetectorVerticle.SCORE_FLOOR);
  }
}
