package io.keypulse.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.config.Config;
import io.keypulse.db.PostgresWatchdog.State;
import io.keypulse.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Embedded Postgres watchdog")
class PostgresWatchdogTest {

  @Test
  @DisplayName("while a dead server cannot be restarted it reports down with Postgres' reason, and keeps trying")
  void retriesUntilTheServerCanStart() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-watchdog-");
    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    Path conf = dir.resolve("postgres/postgresql.conf");
    Path hidden = dir.resolve("postgres/postgresql.conf.away");
    try (PostgresWatchdog watchdog = PostgresWatchdog.start(pg, settings(200, 100, 400))) {
      Files.move(conf, hidden);  // read only at start: the running server does not mind
      long server = Long.parseLong(Files.readAllLines(dir.resolve("postgres/postmaster.pid")).get(0).trim());
      ProcessHandle.of(server).orElseThrow().destroyForcibly();

      awaitState(watchdog, State.DOWN);
      assertThat(watchdog.health().getString("last_error")).contains("postgresql.conf");
      Thread.sleep(1500);
      assertThat(watchdog.state()).as("still down, still trying").isEqualTo(State.DOWN);

      Files.move(hidden, conf);
      awaitState(watchdog, State.RUNNING);
      assertThat(watchdog.health().getInteger("restarts")).isEqualTo(1);
      try (var c = DriverManager.getConnection(pg.target().jdbcUrl(), pg.target().user(), pg.target().password())) {
        assertThat(c.isValid(5)).isTrue();
      }
    } finally {
      pg.stop();
    }
  }

  private static Config.Pg settings(int checkMs, int backoffMs, int backoffMaxMs) {
    return new Config.Pg("", 0, List.of(), 1, 1, 2000, 3000, checkMs, backoffMs, backoffMaxMs);
  }

  /** The states seen (each change once) until the wanted one, within 30 s. */
  private static List<State> awaitState(PostgresWatchdog watchdog, State wanted) throws InterruptedException {
    List<State> seen = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      State now = watchdog.state();
      if (seen.isEmpty() || seen.get(seen.size() - 1) != now) {
        seen.add(now);
      }
      if (now == wanted) {
        return seen;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no " + wanted + " within 30 s; saw " + seen);
  }
}
