package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Queries: events, keys and stats")
class QueryTest extends NodeTest {
  private Partner partner;
  private final Instant base = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(3, ChronoUnit.DAYS);

  @BeforeAll
  void start() {
    partner = api.register("Queries");
    // 601 events on "bulk", three minutes apart from base (30 hours: past learning); then a few of each severity on "mixed".
    for (int batch = 0; batch < 7; batch++) {
      JsonArray data = new JsonArray();
      for (int i = 0; i < (batch < 6 ? 100 : 1); i++) {
        int n = batch * 100 + i;
        data.add(new JsonObject().put("event_type", "key_accessed").put("key_id", "bulk")
            .put("occurred_at", base.plus(3L * n, ChronoUnit.MINUTES).toString()));
      }
      assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", data), key(partner.apiKey())).status())
          .isEqualTo(202);
    }
    JsonArray mixed = new JsonArray();
    for (String severity : List.of("nominal", "warning", "critical", "warning")) {
      mixed.add(new JsonObject().put("key_id", "mixed").put("event_type", "signing_request").put("severity", severity));
    }
    mixed.add(new JsonObject().put("key_id", "mixed").put("event_type", "key_created").put("severity", "nominal")
        .put("details", new JsonObject().put("name", "Production Signing Key").put("key_type", "mpc_shard")));
    assertThat(api.post("/api/events/batch", new JsonObject().put("events", mixed), key(partner.apiKey())).status())
        .isEqualTo(201);
  }

  @Test
  @DisplayName("events come newest first, 50 by default, and limit is clamped to 500")
  void limits() {
    Reply byDefault = api.get("/api/events?key_id=bulk", key(partner.apiKey()));
    assertThat(byDefault.json().getInteger("count")).isEqualTo(50);
    List<Long> ids = ids(byDefault);
    assertThat(ids).isSortedAccordingTo((a, b) -> Long.compare(b, a));

    Reply clamped = api.get("/api/events?key_id=bulk&limit=100000", key(partner.apiKey()));
    assertThat(clamped.status()).isEqualTo(200);
    assertThat(clamped.json().getInteger("count")).isEqualTo(500);
    assertThat(clamped.json().getLong("next_before_id")).isEqualTo(ids(clamped).get(499));
  }

  @Test
  @DisplayName("before_id pages through every event exactly once, and the last page has no cursor")
  void cursor() {
    List<Long> seen = new ArrayList<>();
    Long cursor = null;
    int pages = 0;
    do {
      Reply page = api.get("/api/events?key_id=bulk&limit=200" + (cursor == null ? "" : "&before_id=" + cursor),
          key(partner.apiKey()));
      seen.addAll(ids(page));
      cursor = page.json().getLong("next_before_id");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(4);
    assertThat(seen).hasSize(601).doesNotHaveDuplicates().isSortedAccordingTo((a, b) -> Long.compare(b, a));
  }

  @Test
  @DisplayName("severity, event_type and since/until (event time) filter")
  void filters() {
    Reply warnings = api.get("/api/events?severity=warning", key(partner.apiKey()));
    assertThat(warnings.json().getInteger("count")).isEqualTo(2);
    assertThat(warnings.array("events").stream().map(e -> ((JsonObject) e).getString("severity"))).containsOnly("warning");

    Reply created = api.get("/api/events?event_type=key_created", key(partner.apiKey()));
    assertThat(created.json().getInteger("count")).isEqualTo(1);

    String since = base.plus(30, ChronoUnit.MINUTES).toString();
    String until = base.plus(57, ChronoUnit.MINUTES).toString();
    Reply window = api.get("/api/events?key_id=bulk&since=" + since + "&until=" + until, key(partner.apiKey()));
    assertThat(window.json().getInteger("count")).isEqualTo(10);
  }

  @Test
  @DisplayName("keys appear on first event with counts, activity, name and type from key_created, and learning state")
  void keys() {
    Reply r = api.get("/api/keys", key(partner.apiKey()));
    assertThat(r.status()).isEqualTo(200);
    JsonObject bulk = find(r.array("keys"), "bulk");
    JsonObject mixed = find(r.array("keys"), "mixed");
    assertThat(bulk.getLong("event_count")).isEqualTo(601);
    assertThat(Instant.parse(bulk.getString("last_activity"))).isEqualTo(base.plus(1800, ChronoUnit.MINUTES));
    // Accesses only: the volume baseline learns from signings, the source detectors from any event.
    assertThat(bulk.getString("baseline_state")).isEqualTo("learning");
    assertThat(bulk.getJsonObject("baselines")).isEqualTo(new JsonObject().put("signing_volume_spike", "learning")
        .put("off_hours_signing", "learning").put("new_source_ip", "ready").put("new_actor", "ready"));
    assertThat(bulk.getString("status")).isEqualTo("active");
    assertThat(bulk.getInteger("rotation_policy_days")).isEqualTo(90);
    assertThat(mixed.getLong("event_count")).isEqualTo(5);
    assertThat(mixed.getString("name")).isEqualTo("Production Signing Key");
    assertThat(mixed.getString("key_type")).isEqualTo("mpc_shard");
    assertThat(mixed.getString("baseline_state")).isEqualTo("learning");
    assertThat(mixed.fieldNames()).contains("id", "key_id", "name", "key_type", "status", "event_count",
        "last_activity", "last_rotated", "rotation_policy_days", "baseline_state");
  }

  @Test
  @DisplayName("a key_deleted event marks the key deleted")
  void deletedKey() {
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_deleted").put("key_id", "doomed"),
        key(partner.apiKey()));
    assertThat(find(api.get("/api/keys", key(partner.apiKey())).array("keys"), "doomed").getString("status"))
        .isEqualTo("deleted");
  }

  @Test
  @DisplayName("stats count this partner's events with a key, and everyone's without")
  void stats() {
    Partner other = api.register("Queries Other");
    api.post("/api/events", new JsonObject().put("key_id", "o").put("event_type", "x").put("severity", "critical"),
        key(other.apiKey()));

    JsonObject mine = api.get("/api/stats", key(partner.apiKey())).json();
    JsonObject all = api.get("/api/stats").json();
    long myEvents = mine.getLong("total_events");
    assertThat(myEvents).isGreaterThanOrEqualTo(606);
    assertThat(mine.getLong("events_24h")).isEqualTo(myEvents);
    assertThat(mine.getJsonObject("severity_breakdown").getLong("warning")).isEqualTo(2);
    assertThat(mine.getJsonObject("severity_breakdown").getLong("critical")).isEqualTo(1);
    assertThat(all.getLong("total_events")).isEqualTo(myEvents + 1);
    assertThat(all.getJsonObject("severity_breakdown").getLong("critical")).isEqualTo(2);
    assertThat(all.getLong("total_keys")).isEqualTo(mine.getLong("total_keys") + 1);
  }

  private static List<Long> ids(Reply r) {
    return r.array("events").stream().map(e -> ((JsonObject) e).getLong("id")).toList();
  }

  private static JsonObject find(JsonArray keys, String keyId) {
    return keys.stream().map(JsonObject.class::cast).filter(k -> keyId.equals(k.getString("key_id")))
        .findFirst().orElseThrow(() -> new AssertionError("no key " + keyId + " in " + keys));
  }
}
