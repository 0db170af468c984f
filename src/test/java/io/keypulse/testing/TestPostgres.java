package io.keypulse.testing;

import io.keypulse.Main;
import io.keypulse.config.ConfigLoader;
import io.keypulse.db.EmbeddedPostgres;
import io.keypulse.db.PgTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real Postgres for the whole test run (our own embedded launcher), and a fresh database per
 * caller so that test classes never see each other's rows. The run's directories go when the JVM
 * exits: one `mvn verify` left ~1.5 GB in the temp directory (the shared server's data alone ~1 GB),
 * and a developer's disk filled up after a few dozen runs.
 */
public final class TestPostgres {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static final List<Path> TEMP_DIRS = new CopyOnWriteArrayList<>();
  private static EmbeddedPostgres server;

  static {
    // One hook, so that the shared server stops before its directory is removed.
    Runtime.getRuntime().addShutdownHook(new Thread(TestPostgres::cleanUp, "test-temp-cleanup"));
  }

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
    return EmbeddedPostgres.start(tempDir("keypulse-pg-dedicated-"), 0, settings());
  }

  private static EmbeddedPostgres server() {
    if (server == null) {
      server = EmbeddedPostgres.start(tempDir("keypulse-pg-tests-"), 0, settings());
    }
    return server;
  }

  /** The embedded server's settings as conf/keypulse.yaml gives them (pg.embedded_settings). */
  public static List<String> settings() {
    return ConfigLoader.load(Map.of(), Map.of()).pg().embeddedSettings();
  }

  /** A new directory, removed with everything in it when the test JVM exits. */
  public static Path tempDir(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      TEMP_DIRS.add(dir);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static synchronized void cleanUp() {
    if (server != null) {
      server.stop();
    }
    TEMP_DIRS.forEach(Main::deleteTree);
  }
}
