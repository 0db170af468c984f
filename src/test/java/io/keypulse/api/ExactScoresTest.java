package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.RawSse;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Scores are decimals of three places, wherever a partner reads them")
class ExactScoresTest extends NodeTest {
  private static final Pattern NOISY_SCORE = Pattern.compile("\"score\":-?\\d+\\.\\d{4,}");

  @Test
  @DisplayName("0.7 and 0.95 over REST, on resume and live: not 0.699999988079071 nor 0.949999988079071")
  void exactScores() {
    Partner p = api.register("Exact Scores");
    try (RawSse live = new RawSse(api.base() + "/api/events/stream", p.apiKey())) {
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "policy_violation")
          .put("key_id", "warned"), key(p.apiKey())).status()).isEqualTo(202);
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "policy_violation")
          .put("key_id", "critical").put("severity", "critical"), key(p.apiKey())).status()).isEqualTo(202);
      Reply events = Sleep.poll(() -> {
        Reply r = api.get("/api/events", key(p.apiKey()));
        return r.json().getJsonArray("events").stream().map(JsonObject.class::cast)
            .allMatch(e -> e.getDouble("score") > 0) ? r : null;
      }, 15_000);
      assertThat(events).as("both events scored").isNotNull();
      assertThat(events.raw()).contains("\"key_id\":\"warned\",\"event_type\":\"policy_violation\",\"severity\":"
          + "\"warning\",\"score\":0.7,");
      assertThat(events.raw()).contains("\"key_id\":\"critical\",\"event_type\":\"policy_violation\",\"severity\":"
          + "\"critical\",\"score\":0.95,");
      assertThat(NOISY_SCORE.matcher(events.raw()).find()).as("no float noise: %s", events.raw()).isFalse();
      assertThat(live.await(text -> text.contains("\"score\":0.95,"), 10_000)).as("live: %s", live.text()).isTrue();
      assertThat(NOISY_SCORE.matcher(live.text()).find()).as("no float noise live: %s", live.text()).isFalse();
    }
    try (RawSse resumed = new RawSse(api.base() + "/api/events/stream?since_id=0", p.apiKey())) {
      assertThat(resumed.await(text -> text.contains("\"score\":0.7,") && text.contains("\"score\":0.95,"), 10_000))
          .as("a stream resumed from the database: %s", resumed.text()).isTrue();
    }
  }
}
