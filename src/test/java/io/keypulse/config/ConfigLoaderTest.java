package io.keypulse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Configuration")
class ConfigLoaderTest {

  @Test
  @DisplayName("defaults come from conf/keypulse.yaml: port 8080, embedded Postgres, 100 requests a minute")
  void defaults() {
    Config c = ConfigLoader.load(Map.of(), Map.of());
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.pg().embedded()).isTrue();
    assertThat(c.rateLimit().perMin()).isEqualTo(100);
    assertThat(c.http().bodyLimitBytes()).isEqualTo(1024 * 1024);
    assertThat(c.webhook().allowedCidrs()).isEmpty();
  }

  @Test
  @DisplayName("the embedded Postgres's settings: name=value pairs; anything a command line would need to quote is refused")
  void embeddedSettings() {
    assertThat(ConfigLoader.load(Map.of(), Map.of()).pg().embeddedSettings()).containsExactly("max_connections=200");
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_PG_EMBEDDED_SETTINGS", " max_connections=50, work_mem=8MB ,"),
        Map.of()).pg().embeddedSettings()).containsExactly("max_connections=50", "work_mem=8MB");
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_PG_EMBEDDED_SETTINGS", ""), Map.of()).pg().embeddedSettings())
        .isEmpty();
    for (String bad : List.of("max_connections", "work_mem=8 MB", "work_mem='8MB'", "a=b;touch x", "x=$(id)")) {
      assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_PG_EMBEDDED_SETTINGS", bad), Map.of()))
          .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pg.embedded_settings");
    }
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_PG_EMBEDDED_SETTINGS", "port=5433"), Map.of()))
        .hasMessageContaining("set by the node itself");
  }

  @Test
  @DisplayName("the store's writers: between 1 and 8, and below the write pool's size, which keeps one connection besides")
  void writers() {
    Config.Store store = ConfigLoader.load(Map.of(), Map.of()).store();
    assertThat(store.writers()).isEqualTo(2);
    assertThat(store.flushParallelMinEvents()).isEqualTo(100);
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_STORE_WRITERS", "4", "KEYPULSE_PG_WRITE_POOL_SIZE", "5"), Map.of())
        .store().writers()).isEqualTo(4);
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_STORE_WRITERS", "3"), Map.of()))
        .hasMessageContaining("store.writers (3) must be below pg.write_pool_size (3)");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_STORE_WRITERS", "0"), Map.of()))
        .hasMessageContaining("store.writers must be between 1 and 8");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_STORE_FLUSH_PARALLEL_MIN_EVENTS", "0"), Map.of()))
        .hasMessageContaining("store.flush_parallel_min_events must be at least 1");
  }

  @Test
  @DisplayName("the environment variables SPEC §9 names override the file, typed")
  void environment() {
    Config c = ConfigLoader.load(Map.of(
        "KEYPULSE_HTTP_PORT", "9090",
        "KEYPULSE_PG_URL", "postgresql://u:p@db:5432/kp",
        "KEYPULSE_DATA_DIR", "/var/lib/keypulse",
        "KEYPULSE_ADMIN_TOKEN", "t0k3n",
        "KEYPULSE_RATE_LIMIT_PER_MIN", "250",
        "KEYPULSE_CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2:5701",
        "KEYPULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8"), Map.of());
    assertThat(c.http().port()).isEqualTo(9090);
    assertThat(c.pg().embedded()).isFalse();
    assertThat(c.pg().url()).isEqualTo("postgresql://u:p@db:5432/kp");
    assertThat(c.dataDir().toString()).isEqualTo("/var/lib/keypulse");
    assertThat(c.admin().token()).isEqualTo("t0k3n");
    assertThat(c.rateLimit().perMin()).isEqualTo(250);
    assertThat(c.cluster().members()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
    assertThat(c.webhook().allowedCidrs()).isEqualTo(List.of("127.0.0.0/8"));
  }

  @Test
  @DisplayName("logging: plain at INFO by default; KEYPULSE_LOG_FORMAT and KEYPULSE_LOGGING_* set it; an unknown format fails")
  void logging() {
    Config.Logging defaults = ConfigLoader.load(Map.of(), Map.of()).logging();
    assertThat(defaults).isEqualTo(new Config.Logging("plain", "INFO"));
    assertThat(defaults.json()).isFalse();
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_LOG_FORMAT", "JSON", "KEYPULSE_LOGGING_LEVEL", "debug"), Map.of())
        .logging()).isEqualTo(new Config.Logging("json", "DEBUG"));
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_LOGGING_FORMAT", "json"), Map.of()).logging().json()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_LOG_FORMAT", "logfmt"), Map.of()))
        .hasMessageContaining("logging.format");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("logging.level", "loud")))
        .hasMessageContaining("logging.level");
  }

  @Test
  @DisplayName("flags win over the environment; a malformed number or an unknown setting fails loudly")
  void precedenceAndErrors() {
    Config c = ConfigLoader.load(Map.of("KEYPULSE_HTTP_PORT", "9090"), Map.of("http.port", "7070"));
    assertThat(c.http().port()).isEqualTo(7070);
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_HTTP_PORT", "eighty"), Map.of()))
        .hasMessageContaining("http.port");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("http.prot", 1))).hasMessageContaining("http.prot");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_WEBHOOK_RETRY_DELAYS_MS", "1s,4s"), Map.of()))
        .hasMessageContaining("webhook.retry_delays_ms");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("KEYPULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/abc"), Map.of()))
        .hasMessageContaining("webhook.allowed_cidrs");
    assertThat(ConfigLoader.load(Map.of("KEYPULSE_WEBHOOK_RETRY_DELAYS_MS", "500, 2000"), Map.of()).webhook()
        .retryDelaysMs()).containsExactly(500L, 2000L);
  }
}
