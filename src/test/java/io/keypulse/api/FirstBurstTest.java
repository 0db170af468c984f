package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Default connection caps (AdmissionTest's small per-address cap would refuse the burst itself). */
@DisplayName("Credential look-ups under a burst")
class FirstBurstTest extends NodeTest {

  @Test
  @DisplayName("a new key's first burst shares one look-up: none of it is refused for saturation")
  void firstBurst() {
    Partner p = api.register("First Burst");
    String fresh = api.post("/api/v1/api-keys", new JsonObject(), key(p.apiKey())).json().getString("api_key");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(40);
    try {
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return api.get("/api/events?limit=1", key(fresh)).status();
        }));
      }
      go.countDown();
      for (java.util.concurrent.Future<Integer> answer : answers) {
        assertThat(answer.get()).isEqualTo(200);
      }
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new AssertionError(e);
    } finally {
      pool.shutdownNow();
    }
  }

}
