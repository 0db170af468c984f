package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("An endpoint that answers again gets its backlog at once")
class EndpointRecoveryTest extends WebhookNodeTest {

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("retry_delays_ms", "500,30000", "jitter_pct", 0);
  }

  @Test
  @DisplayName("a delivery waiting 30 s for its next retry is sent as soon as another delivery to the endpoint succeeds")
  void backlogFollowsFirstSuccess() {
    Partner p = api.register("Recovering Endpoint");
    receiver.script("/heal", 500, 500);
    ruleForEveryEvent(p, "/heal");
    ingest(p, "early");
    List<Receiver.Hit> failed = receiver.await("/heal", h -> keyOf(h).equals("early"), 2, 10_000);
    assertThat(failed).as("two failed attempts, the next one 30 s away").hasSize(2);

    ingest(p, "late");
    Receiver.Hit late = receiver.await("/heal", h -> keyOf(h).equals("late"), 1, 10_000).get(0);
    List<Receiver.Hit> early = receiver.await("/heal", h -> keyOf(h).equals("early"), 3, 10_000);
    assertThat(early).as("the third attempt came with the recovery, not 30 s later").hasSize(3);
    assertThat(early.get(2).arrivedMillis() - late.arrivedMillis()).isLessThan(3000);
    assertThat(early.get(2).header("X-KeyPulse-Delivery")).isEqualTo(early.get(0).header("X-KeyPulse-Delivery"));
  }

  @Test
  @DisplayName("another URL on the same host succeeding does not shorten a failing URL's schedule")
  void recoveryIsPerUrl() {
    Partner p = api.register("Two Paths One Host");
    receiver.always("/down", 500);
    for (String path : List.of("/down", "/up")) {
      assertThat(api.post("/api/v1/rules", new JsonObject().put("name", path).put("event_type_match", "*")
          .put("webhook_url", receiver.url(path)).put("severity", "warning"), key(p.apiKey())).status())
          .isEqualTo(201);
    }
    ingest(p, "first");
    List<Receiver.Hit> failed = receiver.await("/down", h -> keyOf(h).equals("first"), 2, 10_000);
    assertThat(failed).as("two failed attempts, the next one 30 s away").hasSize(2);
    assertThat(failed.get(1).arrivedMillis() - failed.get(0).arrivedMillis()).isGreaterThanOrEqualTo(450);

    // /up keeps answering 200 while /down keeps failing: on one host:port, but not the same endpoint.
    for (int i = 0; i < 12; i++) {
      ingest(p, "more-" + i);
      Sleep.millis(300);
    }
    assertThat(receiver.await("/up", h -> keyOf(h).startsWith("more-"), 12, 5000)).hasSize(12);
    assertThat(receiver.hits("/down").stream().filter(h -> keyOf(h).equals("first")))
        .as("the third attempt waits its 30 s").hasSize(2);
  }

  private void ingest(Partner p, String keyId) {
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", keyId),
        key(p.apiKey())).status()).isEqualTo(202);
  }

  private static String keyOf(Receiver.Hit hit) {
    return hit.json().getString("key_id");
  }
}
