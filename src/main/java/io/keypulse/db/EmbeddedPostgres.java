package io.keypulse.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Postgres server in a directory of ours: initdb on first use, pg_ctl start/stop, and
 * recovery from a crash that left postmaster.pid (or a live orphan server) behind. While it is
 * ours, a lock on the directory says so and a {@link PostgresGuard} stops it should this JVM die.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String USER = "keypulse";
  private static final String DATABASE = "keypulse";

  private final Path dataDir;
  private final Path pgData;
  private final int port;
  private final String password;
  private final boolean throwaway;
  /** "name=value" server settings (pg.embedded_settings), each passed as -c. */
  private final List<String> settings;
  private final ServerCommands commands;
  private DataDirLock lock;
  private PostgresGuard guard;
  private volatile ProcessHandle postmaster;

  private EmbeddedPostgres(Path dataDir, int port, boolean throwaway, List<String> settings) throws IOException {
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.pgData = this.dataDir.resolve("postgres");
    this.commands = new ServerCommands(PostgresBinaries.installed().resolve("bin"), pgData);
    this.port = port > 0 ? port : freePort();
    this.password = readOrCreatePassword();
    this.throwaway = throwaway;
    this.settings = List.copyOf(settings);
  }

  /**
   * Starts (initialising if needed) a server whose files live under dataDir/postgres, with the given
   * "name=value" settings (pg.embedded_settings).
   */
  public static EmbeddedPostgres start(Path dataDir, int port, List<String> settings) {
    return start(dataDir, port, false, settings);
  }

  /** As {@link #start(Path, int, List)}; a throwaway dataDir is deleted should this JVM die without stopping us. */
  public static EmbeddedPostgres start(Path dataDir, int port, boolean throwaway, List<String> settings) {
    EmbeddedPostgres pg = null;
    try {
      pg = new EmbeddedPostgres(dataDir, port, throwaway, settings);
      pg.startServer();
      pg.ensureDatabase();
      return pg;
    } catch (IOException | RuntimeException e) {
      RuntimeException failure = e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
      if (pg != null) {
        try {
          pg.stop();
        } catch (RuntimeException alsoFailed) {
          failure.addSuppressed(alsoFailed);
        }
      }
      throw failure;
    }
  }

  public PgTarget target() {
    return new PgTarget("127.0.0.1", port, DATABASE, USER, password);
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Starts the server again after {@link #stop()} or its death, on the same port and files. */
  public synchronized void startServer() throws IOException {
    if (lock == null) {
      lock = DataDirLock.acquire(dataDir);
    }
    if (guard == null || !guard.isAlive()) {
      guard = PostgresGuard.start(commands.pgCtlCommand("stop", "-w", "-t", "30", "-m", "immediate"),
          throwaway ? dataDir : null, dataDir.resolve("postgres-guard.log"));
    }
    if (!Files.exists(pgData.resolve("PG_VERSION"))) {
      initdb();
    }
    clearStaleLock();
    long began = System.nanoTime();
    Path serverLog = pgData.resolve("postgres.log");
    long logFrom = Files.exists(serverLog) ? Files.size(serverLog) : 0;
    try {
      StringBuilder options = new StringBuilder("-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=''");
      settings.forEach(setting -> options.append(" -c ").append(setting));
      commands.pgCtl("start", "-w", "-t", "60", "-l", serverLog.toString(), "-o", options.toString());
    } catch (IOException e) {
      throw new IOException("Postgres did not start: " + Postmaster.complaint(serverLog, logFrom), e);
    }
    postmaster = Postmaster.running(pgData).orElse(null);
    log.info("embedded Postgres up on 127.0.0.1:{} ({} ms, data in {})", port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), pgData);
  }

  /** Whether the server we started is still alive (a check of its process, no query). */
  public boolean isRunning() {
    ProcessHandle server = postmaster;
    return server != null && Postmaster.alive(server);
  }

  /**
   * A fast shutdown: open transactions roll back, committed data is on disk. Only once the server
   * is down is the guard dismissed and the directory released, so a failed stop still leaves the
   * guard to stop the server when this JVM ends.
   */
  public synchronized void stop() {
    if (lock == null) {
      return;  // never started, or stopped already: whatever runs on these files is not ours
    }
    try {
      if (Postmaster.running(pgData).isPresent()) {
        commands.pgCtl("stop", "-w", "-t", "60", "-m", "fast");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    postmaster = null;
    if (guard != null) {
      guard.dismiss();
      guard = null;
    }
    lock.close();
    lock = null;
  }

  @Override
  public void close() {
    stop();
  }

  private void initdb() throws IOException {
    Files.createDirectories(pgData);
    Path pwFile = dataDir.resolve(".initdb-password");
    Files.writeString(pwFile, password);
    try {
      if (commands.root()) {
        // Our own directory may be private (e.g. a fresh temp dir); the server only needs to pass through it.
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx--x--x"));
      }
      commands.handOver(pgData);
      commands.handOver(pwFile);
      commands.checkReachable();
      commands.initdb("-U", USER, "--pwfile=" + pwFile, "-A", "scram-sha-256", "-E", "UTF8", "--no-locale",
          "--no-instructions");
    } finally {
      Files.deleteIfExists(pwFile);
    }
  }

  /**
   * Postgres leaves postmaster.pid behind when killed; an orphan server may even still run. Either
   * is left by a node that died: a running one holds the directory's lock, so we never get here.
   */
  private void clearStaleLock() throws IOException {
    Path pidFile = pgData.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    Optional<ProcessHandle> orphan = Postmaster.running(pgData);
    if (orphan.isPresent()) {
      log.warn("a Postgres server (pid {}) left by a dead node still runs on {}; stopping it before starting ours",
          orphan.get().pid(), pgData);
      commands.pgCtl("stop", "-w", "-t", "60", "-m", "fast");
    } else {
      log.warn("removing stale {} left by a server that died", pidFile);
      Files.deleteIfExists(pidFile);
    }
  }

  private void ensureDatabase() {
    String admin = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    try (var conn = DriverManager.getConnection(admin, USER, password);
         var exists = conn.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, DATABASE);
      if (!exists.executeQuery().next()) {
        conn.createStatement().execute("CREATE DATABASE " + DATABASE);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the " + DATABASE + " database", e);
    }
  }

  private String readOrCreatePassword() throws IOException {
    Path file = dataDir.resolve("postgres-password");
    if (Files.exists(file)) {
      return Files.readString(file).trim();
    }
    Files.createDirectories(dataDir);
    byte[] raw = new byte[24];
    new SecureRandom().nextBytes(raw);
    String pw = HexFormat.of().formatHex(raw);
    Files.writeString(file, pw);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return pw;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
