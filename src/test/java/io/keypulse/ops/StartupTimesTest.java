package io.keypulse.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Sleep;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("start-up times")
class StartupTimesTest {
  @Test
  @DisplayName("the phases add up to the time since the JVM started, and a slow start names each")
  void phases() {
    StartupTimes times = new StartupTimes(System.currentTimeMillis() - 4000);
    times.done("jvm and config");
    Sleep.millis(30);
    times.done("postgres");
    times.done("postgres");
    assertThat(times.phases()).containsOnlyKeys("jvm and config", "postgres");
    assertThat(times.phases().get("postgres")).isGreaterThanOrEqualTo(30);
    assertThat(times.phases().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(times.totalMillis());
    assertThat(times.totalMillis()).isGreaterThan(StartupTimes.SLOW_MILLIS);
    assertThat(times.summary()).matches("started in \\d+\\.\\d s, over 3\\.0 s: jvm and config \\d+\\.\\d s, "
        + "postgres \\d+\\.\\d s");
  }

  @Test
  @DisplayName("a start within 3 s says only how long it took")
  void quick() {
    StartupTimes times = new StartupTimes(System.currentTimeMillis() - 1200);
    times.done("jvm and config");
    assertThat(times.summary()).matches("started in 1\\.\\d s");
  }
}
