package io.keypulse.db;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which live process owns the embedded Postgres of a data directory: an OS file lock, held while
 * the server is ours. The kernel drops it when its process ends, however it ends. So a server found
 * running on a directory nobody holds is the orphan of a dead node (we take it over), while a held
 * one belongs to a running node, which we must leave alone (stopping it would set two watchdogs
 * restarting the server from under each other).
 */
final class DataDirLock implements AutoCloseable {
  /** A JVM cannot lock a file twice, and closing a second channel on it could drop the first lock. */
  private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

  private final Path file;
  private final FileChannel channel;

  private DataDirLock(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  static DataDirLock acquire(Path dataDir) throws IOException {
    Path file = dataDir.resolve("postgres.lock");
    if (!HELD_HERE.add(file)) {
      throw inUse(dataDir, ProcessHandle.current().pid() + ", this very process");
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(dataDir, Files.readString(file).trim());
      }
      channel.truncate(0).write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
          .getBytes(StandardCharsets.US_ASCII)));
      return new DataDirLock(file, channel);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        channel.close();
      }
      HELD_HERE.remove(file);
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing releases the lock whatever else goes wrong; nothing left to do.
    } finally {
      HELD_HERE.remove(file);
    }
  }

  private static IOException inUse(Path dataDir, String owner) {
    return new IOException("the embedded Postgres in " + dataDir + " belongs to a running process (pid " + owner
        + "); stop that node first or use another data directory");
  }
}
