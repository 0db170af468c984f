package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.KeyPulseNode;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.Api;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Rate limits")
class RateLimitTest {
  private static final int LIMIT = 5;
  private static final int ANONYMOUS = 6;
  private KeyPulseNode first;
  private KeyPulseNode second;
  private Api one;
  private Api two;

  @BeforeAll
  void start() {
    PgTarget pg = TestPostgres.freshDatabase();
    String cluster = "ratelimit-" + UUID.randomUUID();
    Map<String, Object> a = TestNode.defaults(pg, cluster);
    Map<String, Object> b = TestNode.defaults(pg, cluster);
    String members = "127.0.0.1:" + a.get("cluster.port") + ",127.0.0.1:" + b.get("cluster.port");
    for (Map<String, Object> node : java.util.List.of(a, b)) {
      node.put("cluster.members", members);
      node.put("rate_limit.per_min", LIMIT);
      node.put("rate_limit.anonymous_per_min", ANONYMOUS);
    }
    first = TestNode.start(a);
    second = TestNode.start(b);
    one = new Api(first.port());
    two = new Api(second.port());
  }

  @AfterAll
  void stop() {
    second.close();
    first.close();
  }

  @Test
  @DisplayName("Remaining counts down by one, Reset stays put, and request limit+1 is a 429 with Retry-After")
  void countdownThen429() {
    Partner p = one.register("Countdown");
    String reset = null;
    for (int i = 1; i <= LIMIT; i++) {
      Reply r = one.get("/api/events?limit=1", key(p.apiKey()));
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("X-RateLimit-Limit")).isEqualTo(String.valueOf(LIMIT));
      assertThat(r.header("X-RateLimit-Remaining")).isEqualTo(String.valueOf(LIMIT - i));
      reset = reset == null ? r.header("X-RateLimit-Reset") : reset;
      assertThat(r.header("X-RateLimit-Reset")).isEqualTo(reset);
    }
    long resetAt = Long.parseLong(reset);
    assertThat(resetAt).isBetween(Instant.now().getEpochSecond(), Instant.now().getEpochSecond() + 61);

    Reply refused = one.get("/api/events?limit=1", key(p.apiKey()));
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().getBoolean("success")).isFalse();
    assertThat(refused.header("X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(refused.header("X-RateLimit-Limit")).isEqualTo(String.valueOf(LIMIT));
    assertThat(refused.header("X-RateLimit-Reset")).isEqualTo(reset);
    assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 60L);
  }

  @Test
  @DisplayName("answers without a valid key carry the client's anonymous budget: 401s, public stats, unknown routes")
  void anonymous() {
    List<Reply> replies = List.of(
        one.post("/api/events", new JsonObject(), key("kp_live_" + "y".repeat(40))),
        one.get("/api/stats"),
        two.get("/api/no-such-route"),
        two.get("/api/events"));
    assertThat(replies).extracting(Reply::status).containsExactly(401, 200, 404, 401);
    for (int i = 0; i < replies.size(); i++) {
      assertThat(replies.get(i).header("X-RateLimit-Limit")).isEqualTo(String.valueOf(ANONYMOUS));
      assertThat(replies.get(i).header("X-RateLimit-Remaining")).as("one budget on both nodes")
          .isEqualTo(String.valueOf(ANONYMOUS - 1 - i));
      assertThat(replies.get(i).header("X-RateLimit-Reset")).matches("\\d+");
    }
    one.get("/api/stats");
    one.get("/api/stats");
    Reply over = one.post("/api/events", new JsonObject(), key("kp_live_" + "z".repeat(40)));
    assertThat(over.status()).isEqualTo(429);
    assertThat(over.header("Retry-After")).matches("\\d+");
  }

  @Test
  @DisplayName("a batch is one request, and each key of a partner has its own budget")
  void perKey() {
    Partner p = one.register("Per Key");
    String second = one.post("/api/v1/api-keys", new JsonObject(), key(p.apiKey())).json().getString("api_key");
    // Creating the second key was request 1; then LIMIT - 2 queries; the batch is the last allowed one.
    for (int i = 0; i < LIMIT - 2; i++) {
      one.get("/api/events?limit=1", key(p.apiKey()));
    }
    Reply batch = one.post("/api/events/batch", new JsonObject().put("events", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("key_id", "k").put("event_type", "x").put("severity", "nominal"))
        .add(new JsonObject().put("key_id", "k").put("event_type", "x").put("severity", "nominal"))), key(p.apiKey()));
    assertThat(batch.status()).isEqualTo(201);
    assertThat(batch.header("X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(one.get("/api/events", key(p.apiKey())).status()).isEqualTo(429);
    Reply fresh = one.get("/api/events", key(second));
    assertThat(fresh.status()).isEqualTo(200);
    assertThat(fresh.header("X-RateLimit-Remaining")).isEqualTo(String.valueOf(LIMIT - 1));
  }

  @Test
  @DisplayName("two nodes of a cluster draw on one budget per key")
  void sharedAcrossNodes() {
    Partner p = one.register("Shared Budget");
    int allowed = 0;
    for (int i = 0; i < 2 * LIMIT; i++) {
      Api node = i % 2 == 0 ? one : two;
      if (node.get("/api/events?limit=1", key(p.apiKey())).status() == 200) {
        allowed++;
      }
    }
    // The registration answer is not rate limited, so the key's whole budget is left for queries.
    assertThat(allowed).isEqualTo(LIMIT);
    assertThat(two.get("/api/events", key(p.apiKey())).status()).isEqualTo(429);
    assertThat(one.get("/api/events", key(p.apiKey())).status()).isEqualTo(429);
  }

  @Test
  @DisplayName("under concurrent load through both nodes, a key gets its budget within ±10 %")
  void sharedUnderLoad() throws Exception {
    Partner p = one.register("Hammered");
    int budget = 300;
    assertThat(one.put("/admin/partners/" + p.partnerId() + "/plan", new JsonObject().put("rate_limit_per_min", budget),
        "Authorization", "Bearer test-admin-token").status()).isEqualTo(200);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<Integer>> workers = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        Api node = t % 2 == 0 ? one : two;
        workers.add(pool.submit(() -> {
          int allowed = 0;
          for (int i = 0; i < 50; i++) {
            if (node.get("/api/events?limit=1", key(p.apiKey())).status() == 200) {
              allowed++;
            }
          }
          return allowed;
        }));
      }
      int allowed = 0;
      for (Future<Integer> w : workers) {
        allowed += w.get(60, TimeUnit.SECONDS);
      }
      assertThat(allowed).as("2xx out of 800 requests against a budget of " + budget)
          .isBetween((int) (budget * 0.9), (int) (budget * 1.1));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("an operator's plan changes a partner's limit on every node")
  void plans() {
    Partner p = one.register("Plan");
    Reply set = one.put("/admin/partners/" + p.partnerId() + "/plan", new JsonObject().put("rate_limit_per_min", 3),
        "Authorization", "Bearer test-admin-token");
    assertThat(set.status()).isEqualTo(200);
    assertThat(two.get("/api/events", key(p.apiKey())).header("X-RateLimit-Limit")).isEqualTo("3");
    assertThat(one.get("/api/events", key(p.apiKey())).header("X-RateLimit-Limit")).isEqualTo("3");
  }
}
