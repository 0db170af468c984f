package io.keypulse.admin;

import static io.keypulse.testing.Api.bearer;
import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.WebhookNodeTest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Operator API")
class AdminApiTest extends WebhookNodeTest {
  private static final String[] OPERATOR = {"Authorization", "Bearer test-admin-token"};

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("retry_delays_ms", "100,100");
  }


  @Test
  @DisplayName("needs the operator token; a partner key or a wrong token is 401")
  void token() {
    Partner p = api.register("Not An Operator");
    assertThat(api.get("/admin/partners").status()).isEqualTo(401);
    assertThat(api.get("/admin/partners", "Authorization", "Bearer wrong").status()).isEqualTo(401);
    assertThat(api.get("/admin/partners", key(p.apiKey())).status()).isEqualTo(401);
    assertThat(api.get("/admin/partners", "X-Admin-Token", "test-admin-token").status()).isEqualTo(200);
  }

  @Test
  @DisplayName("an operator mints a kp_live_ key that works in both dialects, and revokes it")
  void mintAndRevoke() {
    Partner p = api.register("Operator Keys");
    Reply minted = api.post("/admin/partners/" + p.partnerId() + "/keys", new JsonObject().put("name", "ops"), OPERATOR);
    assertThat(minted.status()).isEqualTo(201);
    String kp = minted.json().getString("api_key");
    assertThat(kp).matches("kp_live_[A-Za-z0-9]{40}");

    assertThat(api.post("/api/events", new JsonObject().put("key_id", "k").put("event_type", "x")
        .put("severity", "nominal"), bearer(kp)).status()).isEqualTo(201);
    assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("key_id", "k").put("event_type", "x"),
        key(kp)).status()).isEqualTo(202);

    Reply revoked = api.delete("/admin/keys/" + minted.json().getLong("id"), OPERATOR);
    assertThat(revoked.json().getBoolean("success")).isTrue();
    assertThat(api.get("/api/events", bearer(kp)).status()).isEqualTo(403);
    assertThat(api.post("/admin/partners/p_00000000/keys", new JsonObject(), OPERATOR).status()).isEqualTo(404);
  }

  @Test
  @DisplayName("a suspended partner gets 403 until resumed; the partner list shows status and keys")
  void suspend() {
    Partner p = api.register("Suspended");
    assertThat(api.put("/admin/partners/" + p.partnerId() + "/status", new JsonObject().put("status", "suspended"),
        OPERATOR).status()).isEqualTo(200);
    Reply refused = api.get("/api/events", key(p.apiKey()));
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.json().getString("message")).contains("suspended");

    JsonObject listed = api.get("/admin/partners", OPERATOR).array("partners").stream().map(JsonObject.class::cast)
        .filter(x -> x.getString("id").equals(p.partnerId())).findFirst().orElseThrow();
    assertThat(listed.getString("status")).isEqualTo("suspended");
    assertThat(listed.getLong("active_keys")).isEqualTo(1);

    api.put("/admin/partners/" + p.partnerId() + "/status", new JsonObject().put("status", "active"), OPERATOR);
    assertThat(api.get("/api/events", key(p.apiKey())).status()).isEqualTo(200);
  }

  @Test
  @DisplayName("plans take a positive integer or null; nonsense is 400")
  void planValidation() {
    Partner p = api.register("Plan Validation");
    String path = "/admin/partners/" + p.partnerId() + "/plan";
    assertThat(api.put(path, new JsonObject().put("rate_limit_per_min", -1), OPERATOR).status()).isEqualTo(400);
    assertThat(api.put(path, new JsonObject().put("rate_limit_per_min", "lots"), OPERATOR).status()).isEqualTo(400);
    assertThat(api.put(path, new JsonObject().put("rate_limit_per_min", 2000), OPERATOR).status()).isEqualTo(200);
    assertThat(api.get("/api/events", key(p.apiKey())).header("X-RateLimit-Limit")).isEqualTo("2000");
    assertThat(api.put(path, new JsonObject().putNull("rate_limit_per_min"), OPERATOR).status()).isEqualTo(200);
    assertThat(api.get("/api/events", key(p.apiKey())).header("X-RateLimit-Limit")).isEqualTo("100000");
  }

  @Test
  @DisplayName("the cluster view lists members with their partitions, the scheduler leader and the outbox; "
      + "/metrics carries the cluster size and this node's share")
  void cluster() {
    Reply r = api.get("/admin/cluster", OPERATOR);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.array("members")).hasSize(1);
    JsonObject member = r.array("members").getJsonObject(0);
    assertThat(member.getBoolean("this_node")).isTrue();
    assertThat(member.getLong("partitions_owned")).isEqualTo(271);
    assertThat(member.getBoolean("scheduler_leader")).isTrue();
    assertThat(r.json().getString("scheduler_leader")).isEqualTo(member.getString("uuid"));
    assertThat(r.json().getJsonObject("outbox").getLong("pending")).isNotNull();
    String metrics = api.get("/metrics").raw();
    assertThat(metrics).contains("keypulse_cluster_members 1.0", "keypulse_cluster_partitions_owned 271.0",
        "keypulse_detect_shards 2.0");
  }

  @Test
  @DisplayName("dead letters go back into the outbox on the operator's replay, and are delivered once the receiver is back")
  void deadLetterReplay() {
    Partner p = api.register("Dead Letters");
    receiver.always("/dead", 500);
    ruleForEveryEvent(p, "/dead");
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "key_accessed").put("key_id", "dl-1"),
        key(p.apiKey()));
    JsonObject failed = Sleep.poll(() -> {
      var list = api.get("/api/v1/webhooks/deliveries?status=failed", key(p.apiKey())).array("deliveries");
      return list.isEmpty() ? null : list.getJsonObject(0);
    }, 15_000);
    assertThat(failed).as("the delivery failed for good after its retries").isNotNull();

    receiver.always("/dead", 200);
    assertThat(api.post("/admin/deliveries/replay", new JsonObject().put("partner_id", "p_nobody"), OPERATOR)
        .json().getInteger("replayed")).isZero();
    assertThat(api.post("/admin/deliveries/replay", new JsonObject().put("limit", 0), OPERATOR).status())
        .isEqualTo(400);
    Reply replay = api.post("/admin/deliveries/replay", new JsonObject().put("partner_id", p.partnerId()), OPERATOR);
    assertThat(replay.json().getInteger("replayed")).isEqualTo(1);
    JsonObject delivered = Sleep.poll(() -> {
      JsonObject d = api.get("/api/v1/webhooks/deliveries/" + failed.getLong("id"), key(p.apiKey())).json()
          .getJsonObject("delivery");
      return "delivered".equals(d.getString("status")) ? d : null;
    }, 15_000);
    assertThat(delivered).as("delivered after the replay").isNotNull();
  }
}
