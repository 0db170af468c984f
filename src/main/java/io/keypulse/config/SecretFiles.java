package io.keypulse.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Secrets a single node may generate for itself when none is configured (admin token, master
 * key): kept in data_dir, readable by its owner only, the same on every restart.
 */
public final class SecretFiles {
  private static final Logger log = LoggerFactory.getLogger(SecretFiles.class);

  private SecretFiles() {}

  public static String configuredOrGenerated(String configured, Path dataDir, String name, Supplier<String> generate) {
    if (configured != null && !configured.isBlank()) {
      return configured.trim();
    }
    Path file = dataDir.resolve(name);
    try {
      if (Files.exists(file)) {
        return Files.readString(file).trim();
      }
      Files.createDirectories(dataDir);
      String value = generate.get();
      Files.writeString(file, value + "\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      log.info("generated {} (configure it to share it between nodes)", file.toAbsolutePath());
      return value;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    }
  }
}
