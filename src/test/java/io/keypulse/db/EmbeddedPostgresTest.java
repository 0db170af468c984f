package io.keypulse.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keypulse.testing.NodeProcess;
import io.keypulse.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Embedded Postgres")
class EmbeddedPostgresTest {

  @Test
  @DisplayName("keeps its data across a stop and a start in the same directory")
  void survivesRestart() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-restart-");
    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    try {
      sql(pg.target(), "CREATE TABLE memo (note text); INSERT INTO memo VALUES ('kept')");
    } finally {
      pg.stop();
    }
    EmbeddedPostgres again = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    try {
      assertThat(again.target().password()).isEqualTo(pg.target().password());
      assertThat(count(again.target(), "SELECT count(*) FROM memo WHERE note = 'kept'")).isEqualTo(1);
    } finally {
      again.stop();
    }
  }

  @Test
  @DisplayName("starts with the server settings pg.embedded_settings gives, and keeps them across a restart")
  void settings() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-settings-");
    List<String> settings = List.of("max_connections=37", "work_mem=8MB");
    for (int start = 0; start < 2; start++) {
      EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0, settings);
      try {
        assertThat(count(pg.target(), "SELECT setting::int FROM pg_settings WHERE name = 'max_connections'"))
            .isEqualTo(37);
        assertThat(count(pg.target(), "SELECT setting::int FROM pg_settings WHERE name = 'work_mem'"))
            .isEqualTo(8 * 1024);
      } finally {
        pg.stop();
      }
    }
  }

  @Test
  @DisplayName("starts despite a stale postmaster.pid left by a crash")
  void stalePidFile() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-stale-");
    EmbeddedPostgres.start(dir, 0, TestPostgres.settings()).stop();
    // A pid that is alive but not a Postgres server: this test's own JVM.
    Files.writeString(dir.resolve("postgres/postmaster.pid"), ProcessHandle.current().pid() + "\n" + dir + "\n");

    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    try {
      assertThat(count(pg.target(), "SELECT 1")).isEqualTo(1);
    } finally {
      pg.stop();
    }
  }

  @Test
  @DisplayName("takes over from an orphaned server that a killed node (and its guard) left running")
  void orphanedServer() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-orphan-");
    NodeProcess owner = NodeProcess.startPostgres(dir);
    PgTarget orphan = PgTarget.parse(Files.readString(dir.resolve("pg-url")).trim());
    sql(orphan, "CREATE TABLE memo (note text); INSERT INTO memo VALUES ('before the crash')");
    ProcessHandle orphanServer = ProcessHandle.of(postmasterPid(dir)).orElseThrow();
    // What kill -9 of the node's whole process group does: the postmaster has a session of its own.
    owner.postgresGuard().destroyForcibly();
    owner.kill();
    assertThat(orphanServer.isAlive()).as("an orphan is left").isTrue();

    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    try {
      assertThat(pg.port()).isNotEqualTo(orphan.port());
      assertThat(count(pg.target(), "SELECT count(*) FROM memo")).isEqualTo(1);
      assertThat(orphanServer.onExit()).as("the orphan was stopped").succeedsWithin(Duration.ofSeconds(10));
      assertThatThrownBy(() -> count(orphan, "SELECT 1")).isInstanceOf(SQLException.class);
    } finally {
      pg.stop();
    }
  }

  @Test
  @DisplayName("refuses a directory whose server belongs to a running node, and leaves that server alone")
  void ownedByRunningNode() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-owned-");
    EmbeddedPostgres owner = EmbeddedPostgres.start(dir, 0, TestPostgres.settings());
    try {
      assertThatThrownBy(() -> EmbeddedPostgres.start(dir, 0, TestPostgres.settings()))
          .hasMessageContaining("belongs to a running process (pid " + ProcessHandle.current().pid());
      assertThat(owner.isRunning()).isTrue();
      assertThat(count(owner.target(), "SELECT 1")).isEqualTo(1);
    } finally {
      owner.stop();
    }
  }

  private static long postmasterPid(Path dir) throws IOException {
    return Long.parseLong(Files.readAllLines(dir.resolve("postgres/postmaster.pid")).get(0).trim());
  }

  private static void sql(PgTarget t, String statements) throws SQLException {
    try (var conn = DriverManager.getConnection(t.jdbcUrl(), t.user(), t.password())) {
      conn.createStatement().execute(statements);
    }
  }

  private static long count(PgTarget t, String query) throws SQLException {
    try (var conn = DriverManager.getConnection(t.jdbcUrl(), t.user(), t.password());
         var rs = conn.createStatement().executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
