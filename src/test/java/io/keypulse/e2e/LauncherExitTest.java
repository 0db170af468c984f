package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.NodeTest;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** scripts/keypulse's exit status is what an operator's script or CI branches on. */
@DisplayName("scripts/keypulse")
class LauncherExitTest extends NodeTest {

  @Test
  @DisplayName("admin exits non-zero, printing the node's answer, when the node answers an error; 0 when it succeeds")
  void adminFailsOnAnErrorAnswer() {
    Result refused = run(Path.of("."), Map.of("KEYPULSE_URL", api.base(), "KEYPULSE_ADMIN_TOKEN", "not-the-token"),
        "admin", "partners");
    assertThat(refused.status()).as(refused.output()).isNotZero();
    assertThat(refused.output()).contains("operator token required");

    Result served = run(Path.of("."), Map.of("KEYPULSE_URL", api.base(), "KEYPULSE_ADMIN_TOKEN", "test-admin-token"),
        "admin", "partners");
    assertThat(served.status()).as(served.output()).isZero();
    assertThat(served.output()).contains("\"success\":true");
  }

  @Test
  @DisplayName("demo --seconds N exits 0 after stopping the node it started")
  void demoExitsZero() {
    Path root = launcherCopy();
    Result demo = run(root, Map.of("KEYPULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()),
        "JAVA_OPTS", "-Xmx512m"), "demo", "--port", Integer.toString(TestNode.freePort()), "--seconds", "1");
    assertThat(demo.output()).contains("done: ");
    assertThat(demo.status()).as(demo.output()).isZero();
  }

  private record Result(int status, String output) {}

  private static Result run(Path root, Map<String, String> env, String... args) {
    List<String> command = Stream.concat(Stream.of(root.resolve("scripts/keypulse").toString()), Arrays.stream(args)).toList();
    try {
      Path log = Files.createTempFile("keypulse-launcher-", ".log");
      log.toFile().deleteOnExit();
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("scripts/keypulse " + String.join(" ", args) + " did not finish:\n" + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The launcher and demo in a directory of their own (so the demo's data/ is this test's), with a
   * target/keypulse.jar that only names the test classpath: the real jar is built after the tests.
   */
  private static Path launcherCopy() {
    try {
      Path root = TestPostgres.tempDir("kp-launcher-");
      // Postgres runs as uid 65534 under root and must reach data/demo below this directory.
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createDirectories(root.resolve("scripts/lib"));
      Files.createDirectories(root.resolve("src/main"));
      Files.createDirectories(root.resolve("target"));
      for (String file : List.of("scripts/keypulse", "scripts/lib/demo.py", "cluster.xml", "pom.xml", "conf/keypulse.yaml")) {
        Files.createDirectories(root.resolve(file).getParent());
        Files.copy(Path.of(file), root.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
      }
      Path jar = root.resolve("target/keypulse.jar");
      writeClasspathJar(jar);
      // Newer than the copied sources, so the launcher does not rebuild.
      Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeClasspathJar(Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "io.keypulse.Main");
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, Arrays.stream(
            System.getProperty("java.class.path").split(File.pathSeparator))
        .map(entry -> Path.of(entry).toAbsolutePath().toUri().toString()).collect(Collectors.joining(" ")));
    try (OutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.flush();
    }
  }
}
