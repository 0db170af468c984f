package io.keypulse.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keypulse.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
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
    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0);
    try {
      sql(pg.target(), "CREATE TABLE memo (note text); INSERT INTO memo VALUES ('kept')");
    } finally {
      pg.stop();
    }
    EmbeddedPostgres again = EmbeddedPostgres.start(dir, 0);
    try {
      assertThat(again.target().password()).isEqualTo(pg.target().password());
      assertThat(count(again.target(), "SELECT count(*) FROM memo WHERE note = 'kept'")).isEqualTo(1);
    } finally {
      again.stop();
    }
  }

  @Test
  @DisplayName("starts despite a stale postmaster.pid left by a crash")
  void stalePidFile() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-stale-");
    EmbeddedPostgres.start(dir, 0).stop();
    // A pid that is alive but not a Postgres server: this test's own JVM.
    Files.writeString(dir.resolve("postgres/postmaster.pid"), ProcessHandle.current().pid() + "\n" + dir + "\n");

    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0);
    try {
      assertThat(count(pg.target(), "SELECT 1")).isEqualTo(1);
    } finally {
      pg.stop();
    }
  }

  @Test
  @DisplayName("takes over from an orphaned server still running on its directory (a killed node)")
  void orphanedServer() throws Exception {
    Path dir = TestPostgres.tempDir("kp-pg-orphan-");
    EmbeddedPostgres orphan = EmbeddedPostgres.start(dir, 0);
    sql(orphan.target(), "CREATE TABLE memo (note text); INSERT INTO memo VALUES ('before the crash')");

    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, 0);
    try {
      assertThat(pg.port()).isNotEqualTo(orphan.port());
      assertThat(count(pg.target(), "SELECT count(*) FROM memo")).isEqualTo(1);
      assertThatThrownBy(() -> count(orphan.target(), "SELECT 1")).as("the orphan was stopped")
          .isInstanceOf(SQLException.class);
    } finally {
      pg.stop();
    }
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
