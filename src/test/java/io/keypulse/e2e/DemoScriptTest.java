package io.keypulse.e2e;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo a new user runs first (scripts/lib/demo.py, what `scripts/keypulse demo` drives). */
@DisplayName("The demo")
class DemoScriptTest extends NodeTest {

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "test-" + UUID.randomUUID());
    s.put("webhook.allowed_cidrs", "127.0.0.0/8");
    return s;
  }

  @Test
  @DisplayName("within half a minute its receiver prints verified webhooks for a spike, a new-IP export, an overdue "
      + "rotation and a breached cap, and the dashboard's API shows the same alerts")
  void demoLightsUp() throws IOException, InterruptedException {
    Path state = TestPostgres.tempDir("kp-demo-").resolve("demo-partners.json");
    Process demo = new ProcessBuilder("python3", "scripts/lib/demo.py", "--url", api.base(),
        "--admin-token", "test-admin-token", "--seconds", "28", "--state", state.toString())
        .redirectErrorStream(true).start();
    assertThat(demo.waitFor(90, TimeUnit.SECONDS)).as("demo finished").isTrue();
    String output = new String(demo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(demo.exitValue()).as(output).isZero();
    assertThat(output).doesNotContain("BAD SIGNATURE");
    List<String> verified = output.lines().filter(l -> l.contains("signature verified")).toList();
    assertThat(String.join("\n", verified)).as(output)
        .contains("signing_volume_spike  hot-wallet-eth", "new_source_ip  kms-data-key-2",
            "rotation_overdue  legacy-signer", "exports_cap  backup-key");

    String apiKey = new JsonObject(Files.readString(state)).getJsonObject(api.base()).getString("api_key");
    List<String> rules = api.get("/api/alerts?limit=500", key(apiKey)).array("alerts").stream()
        .map(a -> ((JsonObject) a).getString("rule")).distinct().toList();
    assertThat(rules).as("no false alert in a week of normal history")
        .containsExactlyInAnyOrder("signing_volume_spike", "new_source_ip", "rotation_overdue", "exports_cap");
  }
}
