package io.keypulse.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A node in a process of its own (io.keypulse.Main), so tests can kill -9 it or send it SIGTERM. */
public final class NodeProcess {
  private static final Pattern READY = Pattern.compile("KeyPulse ready at http://[^:]+:(\\d+)");
  private static final Pattern POSTGRES_READY = Pattern.compile("Postgres ready at postgresql://[^@]+@[^:]+:(\\d+)");
  /** As scripts/keypulse starts a node: without them Hazelcast prints a warning to stderr, outside any log format. */
  private static final List<String> OPENS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");
  private final Process process;
  private final Path log;
  private final int port;

  private NodeProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts {@code java io.keypulse.Main args} with the test classpath and waits for its ready line. */
  public static NodeProcess start(Map<String, String> env, String... args) {
    return start(READY, env, args);
  }

  /** {@code keypulse postgres}: the embedded Postgres alone in dataDir; port() is Postgres' port. */
  public static NodeProcess startPostgres(Path dataDir) {
    return start(POSTGRES_READY, Map.of(), "postgres", "--data-dir", dataDir.toString());
  }

  private static NodeProcess start(Pattern ready, Map<String, String> env, String... args) {
    try {
      Path log = Files.createTempFile("keypulse-node-", ".log");
      log.toFile().deleteOnExit();
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m", "-XX:+ExitOnOutOfMemoryError", "-Dhazelcast.wait.seconds.before.join=0"));
      command.addAll(OPENS);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.keypulse.Main"));
      command.addAll(List.of(args));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(env);
      Process process = pb.start();
      return new NodeProcess(process, log, awaitReady(ready, process, log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  /** The child that stops the node's embedded Postgres when the node dies (see PostgresGuard). */
  public ProcessHandle postgresGuard() {
    return process.children()
        .filter(p -> p.info().arguments().map(a -> List.of(a).contains("keypulse-postgres-guard")).orElse(false))
        .findFirst().orElseThrow(() -> new AssertionError("node " + pid() + " has no Postgres guard"));
  }

  /** kill -9: no shutdown hook, no flush, no goodbye. */
  public void kill() {
    process.destroyForcibly();
    await(Duration.ofSeconds(30));
  }

  /** SIGTERM, then waits for the process to end; returns its exit code. */
  public int terminate(Duration within) {
    process.destroy();
    return await(within);
  }

  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private int await(Duration within) {
    try {
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        throw new AssertionError("node did not stop within " + within + ":\n" + output());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int awaitReady(Pattern ready, Process process, Path log) throws IOException {
    Instant deadline = Instant.now().plusSeconds(90);
    while (Instant.now().isBefore(deadline)) {
      // A JSON log line spells "/" as "\/".
      Matcher m = ready.matcher(Files.readString(log).replace("\\/", "/"));
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      if (!process.isAlive()) {
        throw new AssertionError("node exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    process.destroyForcibly();
    throw new AssertionError("node not ready within 90 s:\n" + Files.readString(log));
  }
}
