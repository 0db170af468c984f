package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Time format")
class TimesTest {

  @Test
  @DisplayName("always prints UTC with exactly three fraction digits, padded")
  void format() {
    assertThat(Times.iso(Instant.parse("2026-04-05T12:34:00Z"))).isEqualTo("2026-04-05T12:34:00.000Z");
    assertThat(Times.iso(Instant.parse("0999-01-02T03:04:05.067891Z"))).isEqualTo("0999-01-02T03:04:05.067Z");
    assertThat(Times.iso(Instant.parse("2026-12-31T23:59:59.999999999Z"))).isEqualTo("2026-12-31T23:59:59.999Z");
    assertThat(Times.iso(null)).isNull();
  }

  @Test
  @DisplayName("parses Z and offsets, refuses dates without a time")
  void parse() {
    assertThat(Times.parse("2026-04-05T14:34:00+02:00")).isEqualTo(Instant.parse("2026-04-05T12:34:00Z"));
    assertThat(Times.parse("2026-04-05")).isNull();
    assertThat(Times.parse(null)).isNull();
  }
}
