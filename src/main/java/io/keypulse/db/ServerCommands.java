package io.keypulse.db;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Postgres' own programs (initdb, pg_ctl) on one data directory. Postgres refuses to run as root,
 * so as root they run as uid/gid 65534 via setpriv, and the files they need are handed over to it.
 */
final class ServerCommands {
  private static final int NOBODY = 65534;

  private final Path bin;
  private final Path pgData;
  private final boolean root = new UnixSystem().getUid() == 0;

  ServerCommands(Path bin, Path pgData) {
    this.bin = bin;
    this.pgData = pgData;
  }

  boolean root() {
    return root;
  }

  void initdb(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(bin.resolve("initdb").toString(), "-D", pgData.toString()));
    command.addAll(List.of(args));
    run(asServerUser(command));
  }

  void pgCtl(String command, String... args) throws IOException {
    run(pgCtlCommand(command, args));
  }

  /** A pg_ctl command line for someone else to run (it already runs as the server's user). */
  List<String> pgCtlCommand(String command, String... args) {
    List<String> cmd = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), "-D", pgData.toString()));
    cmd.addAll(List.of(args));
    cmd.add(command);
    return asServerUser(cmd);
  }

  void handOver(Path path) throws IOException {
    if (root) {
      run(List.of("chown", "-R", NOBODY + ":" + NOBODY, path.toString()));
    }
  }

  /** As root, the unprivileged server must be able to reach its directory; say so clearly if not. */
  void checkReachable() throws IOException {
    if (root && exec(asServerUser(List.of("test", "-w", pgData.toString()))).exitCode != 0) {
      throw new IOException("uid " + NOBODY + " cannot reach " + pgData + ": when running as root, put the data "
          + "directory where every parent is world-searchable (e.g. --data-dir /var/lib/keypulse)");
    }
  }

  private static void run(List<String> command) throws IOException {
    Result result = exec(command);
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
}
