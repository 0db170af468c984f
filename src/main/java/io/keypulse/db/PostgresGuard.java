package io.keypulse.db;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure the embedded Postgres never outlives its node, however the node ends: kill -9, an
 * OutOfMemoryError (the launchers pass -XX:+ExitOnOutOfMemoryError), a JVM crash.
 *
 * <p>Java cannot have the kernel signal a process when its parent dies (PR_SET_PDEATHSIG), and the
 * postmaster is not even our child (pg_ctl detaches it). So the guard is a tiny shell, our child,
 * blocked reading a pipe whose only writer is this JVM. The kernel closes that pipe when the JVM
 * ends for whatever reason and the read returns: no polling, no pid that could have been reused.
 * The guard then stops the server and, for a throwaway data directory, deletes it. A clean stop
 * dismisses it with a line on the pipe instead.
 *
 * <p>Left uncovered: a node killed in the milliseconds between pg_ctl forking a server and the
 * server writing postmaster.pid. That server stops itself within a minute once its directory is
 * deleted, and on a kept directory the next node takes it over.
 */
final class PostgresGuard {
  private static final String NAME = "keypulse-postgres-guard";
  // A Ctrl-C or hang-up reaches the node's whole process group: the guard must outlast the node.
  private static final String SCRIPT = """
      trap '' HUP INT TERM
      remove=$1; shift
      if IFS= read -r line && [ "$line" = dismiss ]; then exit 0; fi
      echo "$(date) the node is gone; stopping its Postgres"
      "$@"
      [ -z "$remove" ] || rm -rf -- "$remove"
      """;
  private static final long DISMISS_WAIT_SECONDS = 10;

  private final Process process;

  private PostgresGuard(Process process) {
    this.process = process;
  }

  /** Runs stopServer when this JVM is gone, then deletes removeAfter (null: keeps the files). */
  static PostgresGuard start(List<String> stopServer, Path removeAfter, Path log) throws IOException {
    List<String> command = new ArrayList<>(List.of("sh", "-c", SCRIPT, NAME,
        removeAfter == null ? "" : removeAfter.toString()));
    command.addAll(stopServer);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("LC_ALL", "C");
    return new PostgresGuard(pb.start());
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The server was stopped on purpose: the guard leaves without doing anything. */
  void dismiss() {
    try (OutputStream pipe = process.getOutputStream()) {
      pipe.write("dismiss\n".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      // The guard has already gone (someone killed it): nothing to dismiss.
    }
    try {
      if (!process.waitFor(DISMISS_WAIT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
