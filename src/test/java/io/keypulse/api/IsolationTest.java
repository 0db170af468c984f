package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Tenant isolation")
class IsolationTest extends NodeTest {
  private Partner a;
  private Partner b;

  @BeforeAll
  void start() {
    a = api.register("Tenant A");
    b = api.register("Tenant B");
    JsonArray data = new JsonArray();
    for (int i = 0; i < 10; i++) {
      data.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "a-secret-key-" + (i % 3))
          .put("severity", i == 0 ? "critical" : "nominal"));
    }
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", data), key(a.apiKey())).status())
        .isEqualTo(202);
  }

  @Test
  @DisplayName("partner B sees none of A's events, not even when filtering by A's key id")
  void events() {
    assertThat(api.get("/api/events?limit=500", key(b.apiKey())).json().getInteger("count")).isZero();
    assertThat(api.get("/api/events?key_id=a-secret-key-0", key(b.apiKey())).json().getInteger("count")).isZero();
    assertThat(api.get("/api/events?severity=critical", key(b.apiKey())).json().getInteger("count")).isZero();
    assertThat(api.get("/api/events?limit=500", key(a.apiKey())).json().getInteger("count")).isEqualTo(10);
  }

  @Test
  @DisplayName("partner B sees none of A's keys, and its scoped stats count nothing of A")
  void keysAndStats() {
    assertThat(api.get("/api/keys", key(b.apiKey())).array("keys")).isEmpty();
    JsonObject stats = api.get("/api/stats", key(b.apiKey())).json();
    assertThat(stats.getLong("total_events")).isZero();
    assertThat(stats.getLong("total_keys")).isZero();
    assertThat(stats.getJsonObject("severity_breakdown").getLong("critical")).isZero();
    assertThat(api.get("/api/stats", key(a.apiKey())).json().getLong("total_keys")).isEqualTo(3);
  }

  @Test
  @DisplayName("partner B cannot list or revoke A's API keys, and the refusal names nothing of A")
  void apiKeys() {
    long aKey = api.get("/api/v1/api-keys", key(a.apiKey())).array("keys").getJsonObject(0).getLong("id");
    var list = api.get("/api/v1/api-keys", key(b.apiKey()));
    assertThat(list.array("keys").stream().map(k -> ((JsonObject) k).getLong("id"))).doesNotContain(aKey);
    var revoke = api.delete("/api/v1/api-keys/" + aKey, key(b.apiKey()));
    assertThat(revoke.status()).isEqualTo(404);
    assertThat(revoke.raw()).doesNotContain(a.partnerId()).doesNotContain("Tenant A");
  }
}
