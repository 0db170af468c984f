package io.keypulse.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The npm packages the Node receivers use (src/test/resources/webhooks/package.json and its lock:
 * standardwebhooks 1.1.1 and what it needs), installed with npm ci into target/node-receivers on
 * first use, so a fresh clone needs only Node and npm (.ci/run installs those) and nothing of
 * node_modules is committed. Scripts run from that folder, so require() finds the packages.
 */
public final class NodeModules {
  private static final Path HOME = Path.of("target", "node-receivers").toAbsolutePath();
  private static final String PINNED = "standardwebhooks";
  private static final String PINNED_VERSION = "1.1.1";

  private NodeModules() {}

  /** The resource script, copied into the folder whose node_modules holds what it requires. */
  public static synchronized Path script(String resource) {
    try {
      install();
      Path script = HOME.resolve(resource);
      copy(resource, script);
      return script;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void install() throws IOException {
    Files.createDirectories(HOME);
    // Another test JVM (another module build) may be installing into the same folder.
    try (FileChannel lock = FileChannel.open(HOME.resolve(".install.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); var held = lock.lock()) {
      if (installed()) {
        return;
      }
      copy("package.json", HOME.resolve("package.json"));
      copy("package-lock.json", HOME.resolve("package-lock.json"));
      run(List.of(npm(), "ci", "--no-audit", "--no-fund", "--ignore-scripts"));
      if (!installed()) {
        throw new IllegalStateException("npm ci did not install " + PINNED + " " + PINNED_VERSION + " into " + HOME);
      }
    }
  }

  private static boolean installed() throws IOException {
    Path manifest = HOME.resolve(Path.of("node_modules", PINNED, "package.json"));
    return Files.exists(manifest) && PINNED_VERSION.equals(new JsonObject(Files.readString(manifest)).getString("version"));
  }

  private static void run(List<String> command) throws IOException {
    Path log = HOME.resolve("npm.log");
    Process process = new ProcessBuilder(command).directory(HOME.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " failed in " + HOME + ":\n" + Files.readString(log));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copy(String resource, Path to) throws IOException {
    try (var in = NodeModules.class.getResourceAsStream("/webhooks/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("no test resource webhooks/" + resource);
      }
      Files.write(to, in.readAllBytes());
    }
  }

  private static String npm() {
    for (String candidate : List.of("/usr/bin/npm", "/usr/local/bin/npm")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    throw new IllegalStateException("npm not found: the Standard Webhooks tests install the official library with it "
        + "(apt-get install npm; .ci/run does this)");
  }
}
