package io.keypulse.db;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The Postgres server process of a data directory, as its files tell: postmaster.pid and its log. */
final class Postmaster {
  private Postmaster() {}

  /** The live server that postmaster.pid names, if any (its pid may have been reused since). */
  static Optional<ProcessHandle> running(Path pgData) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(pgData.resolve("postmaster.pid"));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (lines.isEmpty() || lines.get(0).isBlank()) {
      return Optional.empty();  // a server that is just writing it
    }
    return ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(Postmaster::alive)
        .filter(p -> p.info().command().map(c -> c.endsWith("postgres")).orElse(false));
  }

  /**
   * A dead server may linger as a zombie until its parent reaps it, and pg_ctl leaves it a child of
   * pid 1, which does not always reap (a JVM as a container's pid 1 never does). Dead is dead.
   */
  static boolean alive(ProcessHandle process) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      return process.isAlive() && stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return false;  // no such process any more
    }
  }

  /** Why the server refused to start, from what it logged since `from` (pg_ctl only says that it did not). */
  static String complaint(Path serverLog, long from) {
    try (SeekableByteChannel log = Files.newByteChannel(serverLog)) {
      List<String> lines = new String(Channels.newInputStream(log.position(from)).readAllBytes(), StandardCharsets.UTF_8)
          .lines().filter(l -> !l.isBlank()).toList();
      // Its FATAL says why; problems found before logging starts (a missing config file) come bare.
      return lines.stream().filter(l -> l.contains("FATAL") || l.contains("PANIC")).reduce((first, last) -> last)
          .or(() -> lines.stream().reduce((first, last) -> last)).orElse("see " + serverLog);
    } catch (IOException e) {
      return "see " + serverLog;
    }
  }
}
