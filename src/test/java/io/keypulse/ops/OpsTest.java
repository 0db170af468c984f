package io.keypulse.ops;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Health, readiness and metrics")
class OpsTest extends NodeTest {


  @Test
  @DisplayName("/health says the process is up and /ready checks database, migrations, cluster and serving")
  void healthAndReady() {
    JsonObject health = api.get("/health").json();
    assertThat(health.getString("status")).isEqualTo("UP");
    assertThat(health.getJsonObject("store")).as("an external Postgres is not the node's to watch")
        .isEqualTo(new JsonObject().put("embedded", false));
    Reply ready = api.get("/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("outcome")).isEqualTo("UP");
    assertThat(ready.array("checks").stream().map(c -> ((JsonObject) c).getString("id")))
        .containsExactlyInAnyOrder("database", "migrations", "cluster", "serving");
  }

  @Test
  @DisplayName("/metrics exposes ingest, group-commit, rejection and HTTP meters in Prometheus format")
  void metrics() {
    String k = api.register("Metrics").apiKey();
    api.post("/api/v1/events/ingest", new JsonObject().put("event_type", "x").put("key_id", "k"), key(k));
    api.get("/api/events?limit=nope", key(k));

    String text = api.get("/metrics").raw();
    assertThat(text).contains("# TYPE keypulse_ingest_events_total counter")
        .contains("keypulse_ingest_events_total{dialect=\"partner\"} 1.0")
        .contains("keypulse_store_flush_events_count")
        .contains("keypulse_ingest_latency_seconds_bucket")
        .contains("keypulse_http_rejected_total{status=\"400\"}")
        .contains("vertx_http_server_requests_total");
  }

  @Test
  @DisplayName("/metrics has the JVM's memory, GC, threads and classes, the process' CPU, files and uptime, and the Postgres pools")
  void runtimeAndPoolMetrics() {
    api.get("/api/stats");  // a query, so the query pool has been used

    String text = api.get("/metrics").raw();
    assertThat(text).contains("jvm_memory_used_bytes{", "jvm_memory_max_bytes{", "jvm_gc_memory_allocated_bytes_total",
        "jvm_gc_live_data_size_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
        "process_cpu_usage", "system_cpu_count", "process_files_open_files", "process_files_max_files",
        "process_uptime_seconds", "process_start_time_seconds");
    assertThat(text).containsPattern("vertx_pool_in_use\\{[^}]*pool_name=\"keypulse-query\"[^}]*pool_type=\"sql\"")
        .containsPattern("vertx_pool_queue_pending\\{[^}]*pool_name=\"keypulse-write\"")
        .containsPattern("vertx_pool_usage_seconds_count\\{[^}]*pool_name=\"keypulse-query\"");
  }
}
