package io.keypulse.testing;

import io.keypulse.db.EmbeddedPostgres;
import io.keypulse.db.PgTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real Postgres for the whole test run (our own embedded launcher), and a fresh database per
 * caller so that test classes never see each other's rows.
 */
public final class TestPostgres {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestPostgres() {}

  public static synchronized PgTarget freshDatabase() {
    PgTarget admin = server().target();
    String name = "kp_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (var conn = DriverManager.getConnection(admin.jdbcUrl(), admin.user(), admin.password())) {
      conn.createStatement().execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return new PgTarget(admin.host(), admin.port(), name, admin.user(), admin.password());
  }

  /** A server of its own, for tests that stop and start Postgres under load. */
  public static EmbeddedPostgres dedicatedServer() {
    return EmbeddedPostgres.start(tempDir("keypulse-pg-dedicated-"), 0);
  }

  private static EmbeddedPostgres server() {
    if (server == null) {
      server = EmbeddedPostgres.start(tempDir("keypulse-pg-tests-"), 0);
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
    }
    return server;
  }

  public static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
