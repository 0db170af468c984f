package io.keypulse;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.TestNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The start-up an operator sees: the real command line in a process of its own. */
@DisplayName("Start-up failures: one line naming the flag, exit status 1")
class StartupFailureTest {

  @Test
  @DisplayName("the cluster port taken: one line naming --cluster-port, no stack trace, exit 1")
  void clusterPortInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Result r = run("run", "--ephemeral", "--port", Integer.toString(TestNode.freePort()),
          "--cluster-port", Integer.toString(taken.getLocalPort()));
      assertThat(r.status).isEqualTo(1);
      assertThat(r.errors()).singleElement().asString().contains("cluster port 127.0.0.1:" + taken.getLocalPort())
          .contains("--cluster-port");
      assertThat(r.lines).noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by"));
    }
  }

  @Test
  @DisplayName("the HTTP port taken: one line naming --port, exit 1")
  void httpPortInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
      Result r = run("run", "--ephemeral", "--port", Integer.toString(taken.getLocalPort()),
          "--cluster-port", Integer.toString(TestNode.freePort()));
      assertThat(r.status).isEqualTo(1);
      assertThat(r.errors()).singleElement().asString().contains("HTTP port 0.0.0.0:" + taken.getLocalPort()).contains("--port");
      assertThat(r.lines).noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by"));
    }
  }

  @Test
  @DisplayName("a join file that is not there: one line naming --join-file, exit 1")
  void missingJoinFile() throws Exception {
    Result r = run("node", "--join-file", "/nonexistent/join.json");
    assertThat(r.status).isEqualTo(1);
    assertThat(r.errors()).singleElement().asString().contains("--join-file /nonexistent/join.json does not exist");
  }

  private record Result(int status, List<String> lines) {
    List<String> errors() {
      return lines.stream().filter(l -> l.contains("ERROR")).toList();
    }
  }

  private static Result run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.keypulse.Main"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the node neither started nor failed in 120 s");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.exitValue(), out.lines().toList());
  }
}
