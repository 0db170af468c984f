package io.keypulse;

import io.keypulse.cluster.JoinFile;
import io.keypulse.config.Config;
import io.keypulse.config.ConfigLoader;
import io.keypulse.db.EmbeddedPostgres;
import io.keypulse.db.Migrations;
import io.keypulse.db.PostgresWatchdog;
import io.keypulse.ops.LogSetup;
import io.keypulse.ops.StartupTimes;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code run [--port N] [--data-dir DIR | --ephemeral]} starts a single node with an
 * embedded Postgres (and writes its join file); {@code node --join-file FILE | --pg URL --join
 * HOST:PORT,... [--http-port N] [--cluster-port N] [--cluster-host H]} starts a node that joins a
 * cluster over a shared Postgres; {@code postgres [--data-dir DIR] [--pg-port N]} runs only the
 * embedded Postgres, migrated, for a local cluster. A start that fails says why in one line naming
 * the flag or setting to change, and exits 1.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  private static final Map<String, String> FLAGS = Map.ofEntries(
      Map.entry("--port", "http.port"), Map.entry("--http-port", "http.port"), Map.entry("--data-dir", "data_dir"),
      Map.entry("--pg", "pg.url"), Map.entry("--pg-port", "pg.embedded_port"), Map.entry("--join", "cluster.members"),
      Map.entry("--cluster-port", "cluster.port"), Map.entry("--cluster-host", "cluster.host"),
      Map.entry("--cluster-name", "cluster.name"), Map.entry("--eventbus-host", "cluster.eventbus_host"),
      Map.entry("--eventbus-port", "cluster.eventbus_port"));

  private Main() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0 || !(args[0].equals("run") || args[0].equals("node") || args[0].equals("postgres"))) {
      usage("expected a command: run | node | postgres");
    }
    Map<String, Object> overrides = new LinkedHashMap<>();
    boolean ephemeral = false;
    String joinFile = null;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--ephemeral")) {
        ephemeral = true;
      } else if (args[i].equals("--join-file") && i + 1 < args.length) {
        joinFile = args[++i];
      } else if (FLAGS.containsKey(args[i]) && i + 1 < args.length) {
        overrides.put(FLAGS.get(args[i]), args[++i]);
      } else {
        usage("unknown or incomplete option: " + args[i]);
      }
    }
    Config config = null;
    try {
      if (joinFile != null) {
        // The file's settings first, so that a flag given beside it (a port, say) wins.
        Map<String, Object> flags = new LinkedHashMap<>(overrides);
        overrides.clear();
        overrides.putAll(JoinFile.read(Path.of(joinFile)));
        overrides.putAll(flags);
      }
      if (args[0].equals("node") && !overrides.containsKey("pg.url") && System.getenv("KEYPULSE_PG_URL") == null) {
        usage("node needs --join-file FILE (as `cluster` or a first `run` wrote it) or --pg URL --join HOST:PORT,...");
      }
      Path scratch = ephemeral ? Files.createTempDirectory("keypulse-") : null;
      if (scratch != null) {
        overrides.put("data_dir", scratch.toString());
      }
      config = ConfigLoader.load(System.getenv(), overrides);
      LogSetup.apply(config.logging());
      if (args[0].equals("postgres")) {
        postgres(config, scratch);
        return;
      }
      start(args[0], config, scratch);
    } catch (RuntimeException | IOException e) {
      // One line naming what to change; the trace only for whoever asks for it.
      log.debug("start-up failed", e);
      log.error("{}", StartupFailure.explain(e, config));
      System.exit(1);
    }
  }

  private static void start(String command, Config config, Path scratch) throws IOException {
    KeyPulseNode node;
    StartupTimes times = new StartupTimes();
    times.done("jvm and config");
    try {
      node = KeyPulseNode.start(config, scratch != null, times);
    } catch (RuntimeException e) {
      if (scratch != null) {
        deleteTree(scratch);  // the node stopped its Postgres; nothing else will remove the directory
      }
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      if (scratch != null) {
        deleteTree(scratch);
      }
    }, "keypulse-shutdown"));
    String host = config.http().host().equals("0.0.0.0") ? "127.0.0.1" : config.http().host();
    log.info("KeyPulse ready at http://{}:{} ({})", host, node.port(), times.summary());
    if (command.equals("run") && scratch == null) {
      // A single node is a cluster of one that others may join: say how, with ports free right now.
      Path file = JoinFile.write(config, node.pgTarget(), "http://" + host + ":" + node.port());
      int httpPort = freePortFrom(node.port() + 1);
      int clusterPort = freePortFrom(config.cluster().port() + 1);
      if (clusterPort == httpPort) {
        clusterPort = freePortFrom(httpPort + 1);
      }
      log.info("add a member: scripts/keypulse node --join-file {} --data-dir {} --http-port {} --cluster-port {}", file,
          config.dataDir().toAbsolutePath().resolve("member2"), httpPort, clusterPort);
    }
  }

  /**
   * The embedded Postgres alone, migrated and restarted should it die, until SIGTERM. Its URL (with the password) goes to
   * data_dir/pg-url, readable by its owner only, for the nodes that will share it.
   */
  private static void postgres(Config config, Path scratch) throws IOException {
    EmbeddedPostgres pg = EmbeddedPostgres.start(config.dataDir(), config.pg().embeddedPort(), scratch != null,
        config.pg().embeddedSettings());
    PostgresWatchdog watchdog = PostgresWatchdog.start(pg, config.pg());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      watchdog.close();
      pg.stop();
      if (scratch != null) {
        deleteTree(scratch);
      }
    }, "postgres-shutdown"));
    Migrations.apply(pg.target());
    Path urlFile = config.dataDir().resolve("pg-url");
    Files.writeString(urlFile, pg.target().url() + "\n");
    Files.setPosixFilePermissions(urlFile, PosixFilePermissions.fromString("rw-------"));
    log.info("Postgres ready at {} (URL with password in {})", pg.target(), urlFile.toAbsolutePath());
    try {
      Thread.currentThread().join();  // until SIGTERM; the shutdown hook stops Postgres
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void usage(String problem) {
    log.error("{}\nusage: keypulse run [--port N] [--data-dir DIR | --ephemeral]\n"
        + "       keypulse node --join-file FILE [--http-port N] [--cluster-port N] [--cluster-host H]\n"
        + "       keypulse node --pg URL --join HOST:PORT[,...] [--http-port N] [--cluster-port N] [--cluster-host H]\n"
        + "                     [--cluster-name NAME] [--eventbus-host H] [--eventbus-port N]\n"
        + "       keypulse postgres [--data-dir DIR] [--pg-port N]",
        problem);
    System.exit(2);
  }

  /** The first port from {@code first} that nothing on this host listens on (a suggestion, not a reservation). */
  private static int freePortFrom(int first) {
    for (int port = first; port < Math.min(first + 100, 65536); port++) {
      try (ServerSocket socket = new ServerSocket(port)) {
        return port;
      } catch (IOException taken) {
        // next
      }
    }
    return first;
  }

  /** Removes a directory and everything in it; what cannot be removed is logged, not thrown. */
  public static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}", root, e);
    }
  }
}
