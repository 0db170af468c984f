package io.keypulse.detect;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Metrics;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A fleet of new keys at once: the shards load their state a few reads at a time")
class StateReadsTest extends NodeTest {
  private static final int KEYS = 1000;

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = super.settings(pg);
    // One query connection (its wait queue holds 64): a thousand key loads at once would overflow it.
    s.put("pg.query_pool_size", 1);
    // The rescue must not be what detects them.
    s.put("schedule.rescue_after_seconds", 3600);
    return s;
  }

  @Test
  @DisplayName("a thousand keys seen for the first time are all detected by their shards, and the API's reads are"
      + " answered meanwhile")
  void fleetAtOnce() {
    Partner p = api.register("Fleet At Once");
    for (int b = 0; b < KEYS / 100; b++) {
      JsonArray batch = new JsonArray();
      for (int i = 0; i < 100; i++) {
        batch.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "fleet-" + b + "-" + i)
            .put("data", new JsonObject().put("ip", "10.1.0.1").put("actor", "svc")));
      }
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
          .isEqualTo(202);
    }
    List<Integer> reads = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 60_000;
    while (Metrics.sum(api.get("/metrics").raw(), "keypulse_detect_events_total") < KEYS) {
      assertThat(System.currentTimeMillis()).as("every event detected by its shard in time").isLessThan(deadline);
      Reply keys = api.get("/api/keys?limit=1", key(p.apiKey()));
      reads.add(keys.status());
      Sleep.millis(100);
    }
    assertThat(reads).as("the API's reads while the keys load").allMatch(status -> status == 200);
    assertThat(Metrics.sum(api.get("/metrics").raw(), "keypulse_detect_keys")).isEqualTo(KEYS);
  }
}
