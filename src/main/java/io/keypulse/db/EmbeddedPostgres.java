package io.keypulse.db;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Postgres server in a directory of ours: initdb on first use, pg_ctl start/stop, and
 * recovery from a crash that left postmaster.pid (or a live orphan server) behind.
 * Postgres refuses to run as root, so as root every command runs as uid/gid 65534 via setpriv.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final int NOBODY = 65534;
  private static final String USER = "keypulse";
  private static final String DATABASE = "keypulse";

  private final Path bin;
  private final Path dataDir;
  private final Path pgData;
  private final int port;
  private final String password;
  private final boolean root = new UnixSystem().getUid() == 0;

  private EmbeddedPostgres(Path dataDir, int port) throws IOException {
    this.bin = PostgresBinaries.installed().resolve("bin");
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.pgData = this.dataDir.resolve("postgres");
    this.port = port > 0 ? port : freePort();
    this.password = readOrCreatePassword();
  }

  /** Starts (initialising if needed) a server whose files live under dataDir/postgres. */
  public static EmbeddedPostgres start(Path dataDir, int port) {
    try {
      EmbeddedPostgres pg = new EmbeddedPostgres(dataDir, port);
      pg.startServer();
      pg.ensureDatabase();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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

  /** Starts the server again after {@link #stop()}, on the same port and files. */
  public void startServer() throws IOException {
    if (!Files.exists(pgData.resolve("PG_VERSION"))) {
      initdb();
    }
    clearStaleLock();
    long began = System.nanoTime();
    run(pgCtl("start", "-w", "-t", "60", "-l", pgData.resolve("postgres.log").toString(),
        "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"));
    log.info("embedded Postgres up on 127.0.0.1:{} ({} ms, data in {})", port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), pgData);
  }

  /** A fast shutdown: open transactions roll back, committed data is on disk. */
  public void stop() {
    try {
      if (Files.exists(pgData.resolve("postmaster.pid"))) {
        run(pgCtl("stop", "-w", "-t", "60", "-m", "fast"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
      if (root) {
        // Our own directory may be private (e.g. a fresh temp dir); the server only needs to pass through it.
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx--x--x"));
      }
      handOver(pgData);
      handOver(pwFile);
      checkReachable();
      run(List.of(bin.resolve("initdb").toString(), "-D", pgData.toString(), "-U", USER,
          "--pwfile=" + pwFile, "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-instructions"));
    } finally {
      Files.deleteIfExists(pwFile);
    }
  }

  /** Postgres leaves postmaster.pid behind when killed; an orphan server may even still run. */
  private void clearStaleLock() throws IOException {
    Path pidFile = pgData.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    boolean orphanServer = process.flatMap(p -> p.info().command()).map(c -> c.endsWith("postgres")).orElse(false);
    if (orphanServer) {
      log.warn("a Postgres server (pid {}) still runs on {}; stopping it before starting ours", pid, pgData);
      run(pgCtl("stop", "-w", "-t", "60", "-m", "fast"));
    } else {
      log.warn("removing stale {} left by pid {}", pidFile, pid);
      Files.delete(pidFile);
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

  private void handOver(Path path) throws IOException {
    if (root) {
      run(List.of("chown", "-R", NOBODY + ":" + NOBODY, path.toString()));
    }
  }

  /** As root, the unprivileged server must be able to reach its directory; say so clearly if not. */
  private void checkReachable() throws IOException {
    if (root && exec(asServerUser(List.of("test", "-w", pgData.toString()))).exitCode != 0) {
      throw new IOException("uid " + NOBODY + " cannot reach " + pgData + ": when running as root, put the data "
          + "directory where every parent is world-searchable (e.g. --data-dir /var/lib/keypulse)");
    }
  }

  private List<String> pgCtl(String command, String... args) {
    List<String> cmd = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), "-D", pgData.toString()));
    cmd.addAll(List.of(args));
    cmd.add(command);
    return cmd;
  }

  private void run(List<String> command) throws IOException {
    boolean asServer = !command.get(0).equals("chown");
    Result result = exec(asServer ? asServerUser(command) : command);
    if (result.exitCode != 0) {
      throw new IOException(String.join(" ", command) + " failed (" + result.exitCode + "): " + result.output);
    }
  }

  private List<String> asServerUser(List<String> command) {
    if (!root) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
    wrapped.addAll(command);
    return wrapped;
  }

  private record Result(int exitCode, String output) {}

  private static Result exec(List<String> command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("LC_ALL", "C");
    Process process = pb.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    try {
      return new Result(process.waitFor(), output);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + command.get(0), e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
