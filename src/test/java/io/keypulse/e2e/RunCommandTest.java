package io.keypulse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api;
import io.keypulse.testing.NodeProcess;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The README's run command: a node with an embedded Postgres and no configuration at all. */
@DisplayName("keypulse run")
class RunCommandTest {
  /** The JVM's status after SIGTERM once its shutdown hooks have run: 128 + 15. */
  private static final int SIGTERM_EXIT = 143;

  @Test
  @DisplayName("serves with its own Postgres, stops cleanly on SIGTERM, and keeps its data for the next run")
  void runStopRun() {
    Path dataDir = TestPostgres.tempDir("kp-run-");
    NodeProcess first = start("--data-dir", dataDir.toString());
    Api api = new Api(first.port());
    String key = api.register("Run Command").apiKey();
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_created").put("key_id", "k1"),
        Api.key(key)).status()).isEqualTo(202);

    assertThat(first.terminate(Duration.ofSeconds(30))).isEqualTo(SIGTERM_EXIT);
    assertThat(first.output()).contains("KeyPulse node stopped");
    assertThat(dataDir.resolve("postgres/postmaster.pid")).as("embedded Postgres stopped").doesNotExist();

    NodeProcess second = start("--data-dir", dataDir.toString());
    try {
      Api again = new Api(second.port());
      assertThat(again.get("/api/events", Api.key(key)).json().getInteger("count")).isEqualTo(1);
    } finally {
      second.terminate(Duration.ofSeconds(30));
    }
  }

  @Test
  @DisplayName("--ephemeral runs in a throwaway directory that is gone after the node stops")
  void ephemeral() {
    NodeProcess node = start("--ephemeral");
    String dir = node.output().replaceAll("(?s).*data in (/\\S+)/postgres.*", "$1");
    assertThat(Path.of(dir)).exists();
    assertThat(new Api(node.port()).get("/ready").status()).isEqualTo(200);

    assertThat(node.terminate(Duration.ofSeconds(30))).isEqualTo(SIGTERM_EXIT);
    assertThat(Files.exists(Path.of(dir))).isFalse();
  }

  private static NodeProcess start(String... dataArgs) {
    String[] args = new String[dataArgs.length + 3];
    args[0] = "run";
    args[1] = "--port";
    args[2] = Integer.toString(TestNode.freePort());
    System.arraycopy(dataArgs, 0, args, 3, dataArgs.length);
    return NodeProcess.start(Map.of("KEYPULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()),
        "KEYPULSE_CLUSTER_NAME", "run-" + System.nanoTime()), args);
  }
}
