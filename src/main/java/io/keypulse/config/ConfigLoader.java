package io.keypulse.config;

import io.keypulse.delivery.WebhookTargets;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.Yaml;

/**
 * Reads conf/keypulse.yaml (the file in the working directory, else the copy in the jar), then
 * applies KEYPULSE_* environment variables, then explicit overrides (command-line flags, tests).
 * Only settings that exist in the YAML can be overridden, so a typo fails loudly.
 */
public final class ConfigLoader {
  private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);
  private static final String ENV_PREFIX = "KEYPULSE_";
  private static final String CONFIG_ENV = "KEYPULSE_CONFIG";
  /** Shorter names the issue tracker and operators' habits use; the setting's own name works as well. */
  private static final Map<String, String> ENV_ALIASES = Map.of("KEYPULSE_LOG_FORMAT", "logging.format");
  private static final List<String> LOG_FORMATS = List.of("plain", "json");
  private static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

  private ConfigLoader() {}

  public static Config load(Map<String, String> env, Map<String, Object> overrides) {
    Map<String, Object> flat = flatten("", readYaml(env.get(CONFIG_ENV)));
    applyEnv(flat, env);
    overrides.forEach((path, value) -> {
      if (!flat.containsKey(path)) {
        throw new IllegalArgumentException("unknown setting: " + path);
      }
      flat.put(path, coerce(path, flat.get(path), String.valueOf(value)));
    });
    return build(new Settings(flat));
  }

  private static Map<String, Object> readYaml(String explicitPath) {
    Path file = Path.of(explicitPath != null ? explicitPath : "conf/keypulse.yaml");
    try (InputStream in = Files.isRegularFile(file)
        ? Files.newInputStream(file)
        : ConfigLoader.class.getResourceAsStream("/conf/keypulse.yaml")) {
      if (in == null) {
        throw new IllegalStateException("no configuration: " + file.toAbsolutePath() + " is missing");
      }
      Map<String, Object> tree = new Yaml().load(in);
      return tree == null ? Map.of() : tree;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> flatten(String prefix, Map<String, Object> tree) {
    Map<String, Object> flat = new LinkedHashMap<>();
    tree.forEach((key, value) -> {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (value instanceof Map<?, ?> child) {
        flat.putAll(flatten(path, (Map<String, Object>) child));
      } else {
        flat.put(path, value == null ? "" : value);
      }
    });
    return flat;
  }

  private static void applyEnv(Map<String, Object> flat, Map<String, String> env) {
    Map<String, String> byEnvName = new LinkedHashMap<>();
    flat.keySet().forEach(path -> byEnvName.put(envName(path), path));
    ENV_ALIASES.forEach((alias, path) -> {
      if (flat.containsKey(path)) {
        byEnvName.put(alias, path);
      }
    });
    env.forEach((name, value) -> {
      if (!name.startsWith(ENV_PREFIX) || name.equals(CONFIG_ENV)) {
        return;
      }
      String path = byEnvName.get(name);
      if (path == null) {
        log.warn("ignoring {}: no such setting in conf/keypulse.yaml", name);
        return;
      }
      flat.put(path, coerce(path, flat.get(path), value));
    });
  }

  static String envName(String path) {
    return ENV_PREFIX + path.replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /** Converts an override to the type of the YAML default it replaces. */
  private static Object coerce(String path, Object defaultValue, String raw) {
    try {
      if (defaultValue instanceof Integer) {
        return Integer.parseInt(raw.trim());
      }
      if (defaultValue instanceof Double) {
        return Double.parseDouble(raw.trim());
      }
      if (defaultValue instanceof Long) {
        return Long.parseLong(raw.trim());
      }
      if (defaultValue instanceof Boolean) {
        return Boolean.parseBoolean(raw.trim());
      }
      return raw;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(path + " must be a number, got '" + raw + "'");
    }
  }

  private static Config build(Settings s) {
    return new Config(
        Path.of(s.str("data_dir")),
        new Config.Http(s.str("http.host"), s.integer("http.port"), s.integer("http.instances"),
            s.integer("http.body_limit_bytes"), s.integer("http.shutdown_grace_seconds"),
            s.integer("http.register_body_limit_bytes"), s.integer("http.idle_timeout_seconds"),
            s.integer("http.header_timeout_seconds"), s.integer("http.body_timeout_seconds"),
            s.integer("http.max_connections"), s.integer("http.max_connections_per_ip"),
            s.integer("http.upload_memory_bytes"), s.integer("http.linger_ms"), s.integer("http.linger_max_bytes")),
        new Config.Pg(s.str("pg.url"), s.integer("pg.embedded_port"),
            embeddedSettings(s.str("pg.embedded_settings")), s.integer("pg.query_pool_size"),
            s.integer("pg.write_pool_size"), s.integer("pg.connect_timeout_ms"), s.integer("pg.acquire_timeout_ms"),
            s.integer("pg.embedded_check_ms"), s.integer("pg.restart_backoff_ms"),
            s.integer("pg.restart_backoff_max_ms")),
        new Config.Store(s.integer("store.flush_max_events"), s.integer("store.flush_interval_ms"),
            flushesInFlight(s.integer("store.flushes_in_flight")),
            writers(s.integer("store.writers"), s.integer("pg.write_pool_size")),
            positive("store.flush_parallel_min_events", s.integer("store.flush_parallel_min_events")),
            s.integer("store.max_pending_events"), s.integer("store.append_timeout_seconds")),
        new Config.Ingest(s.integer("ingest.max_batch"), s.integer("ingest.max_details_bytes"),
            s.integer("ingest.max_key_id_length"), s.integer("ingest.max_actor_length"),
            s.integer("ingest.max_future_skew_seconds")),
        new Config.RateLimit(s.integer("rate_limit.per_min"), s.integer("rate_limit.register_per_min"),
            s.integer("rate_limit.admin_per_min"), s.integer("rate_limit.anonymous_per_min"),
            s.integer("rate_limit.partner_multiplier"), s.integer("rate_limit.max_active_keys"),
            s.integer("rate_limit.refusal_delay_ms")),
        new Config.Auth(s.integer("auth.cache_seconds"), s.integer("auth.negative_cache_seconds"),
            s.integer("auth.max_concurrent_lookups")),
        new Config.Detect(s.integer("detect.rotation_policy_days"), s.integer("detect.learning_hours"),
            s.decimal("detect.signing_spike_multiplier"), s.decimal("detect.signing_spike_critical_multiplier"),
            s.integer("detect.signing_spike_min_count"), s.decimal("detect.off_hours_max_share_pct"),
            s.integer("detect.off_hours_min_history"), s.integer("detect.new_source_min_history"),
            s.integer("detect.new_source_network_churn"), s.integer("detect.new_source_learning_hours"),
            s.decimal("detect.provisioning_spike_multiplier"), s.integer("detect.provisioning_spike_min_count"),
            s.integer("detect.suppression_minutes"), s.integer("detect.shards_per_node"),
            s.integer("detect.checkpoint_seconds"), s.integer("detect.idle_evict_minutes"),
            s.integer("detect.reply_timeout_ms"), retentionDays(s.integer("detect.retention_days")),
            s.integer("detect.state_reads_per_shard")),
        new Config.Schedule(s.integer("schedule.rotation_check_seconds"), s.integer("schedule.rescue_check_seconds"),
            s.integer("schedule.rescue_after_seconds"), s.integer("schedule.retention_check_seconds"),
            s.integer("schedule.delivery_retention_days")),
        new Config.Admin(s.str("admin.token")),
        new Config.Secrets(s.str("secrets.master_key")),
        new Config.Cluster(s.str("cluster.name"), s.str("cluster.host"), s.integer("cluster.port"),
            s.list("cluster.members"), s.str("cluster.eventbus_host"), s.integer("cluster.eventbus_port")),
        new Config.Webhook(allowList(s.list("webhook.allowed_cidrs")), s.integer("webhook.timeout_ms"),
            s.millis("webhook.retry_delays_ms"), s.integer("webhook.jitter_pct"),
            s.integer("webhook.per_endpoint_concurrency"), s.integer("webhook.max_in_flight"),
            s.integer("webhook.max_held"), s.integer("webhook.poll_ms"), s.integer("webhook.claim_interval_ms"),
            s.integer("webhook.record_interval_ms"), s.integer("webhook.lease_seconds"),
            s.integer("webhook.max_active_rules"), s.integer("webhook.resolve_cache_seconds"),
            s.integer("webhook.secret_overlap_seconds")),
        new Config.Live(s.str("live.jwt_secret"), tokenTtl(s.integer("live.token_ttl_seconds")),
            s.integer("live.heartbeat_seconds"), s.integer("live.stream_buffer_bytes"),
            s.integer("live.replay_page_size"), s.integer("live.seam_buffer_events"),
            s.integer("live.max_streams_per_partner"), listenerCache(s.integer("live.listener_cache_ms"))),
        new Config.Logging(oneOf(s, "logging.format", LOG_FORMATS, false),
            oneOf(s, "logging.level", LOG_LEVELS, true)));
  }

  /** A word from a fixed list, so that a typo stops the node at start instead of logging in a surprising way. */
  private static String oneOf(Settings s, String path, List<String> allowed, boolean upperCase) {
    String value = upperCase ? s.str(path).toUpperCase(Locale.ROOT) : s.str(path).toLowerCase(Locale.ROOT);
    if (!allowed.contains(value)) {
      throw new IllegalArgumentException(path + " must be one of " + allowed + ", got '" + s.str(path) + "'");
    }
    return value;
  }

  /** Checked here so that a typo stops the node at start, naming the setting. */
  private static List<String> allowList(List<String> cidrs) {
    WebhookTargets.allowList(cidrs);
    return cidrs;
  }

  /** A week of history is what detection learns from (io.keypulse.detect.Policy.MIN_RETENTION_DAYS). */
  private static int retentionDays(int days) {
    if (days < 7 || days > 3650) {
      throw new IllegalArgumentException("detect.retention_days must be between 7 and 3650, got " + days);
    }
    return days;
  }

  /** Each flush in flight can hold a whole batch of events in Postgres's queue; a few are enough. */
  private static int flushesInFlight(int n) {
    if (n < 1 || n > 16) {
      throw new IllegalArgumentException("store.flushes_in_flight must be between 1 and 16, got " + n);
    }
    return n;
  }

  private static int positive(String name, int n) {
    if (n < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, got " + n);
    }
    return n;
  }

  /** The writers hold their connections; the write pool keeps one more for the store's other statements. */
  private static int writers(int n, int writePoolSize) {
    if (n < 1 || n > 8) {
      throw new IllegalArgumentException("store.writers must be between 1 and 8, got " + n);
    }
    if (n >= writePoolSize) {
      throw new IllegalArgumentException("store.writers (" + n + ") must be below pg.write_pool_size ("
          + writePoolSize + "): the store needs a connection besides its writers'");
    }
    return n;
  }

  /** A live-feed token is a bearer credential that cannot be revoked: keep it short-lived. */
  private static int tokenTtl(int seconds) {
    if (seconds < 60 || seconds > 900) {
      throw new IllegalArgumentException("live.token_ttl_seconds must be between 60 and 900, got " + seconds);
    }
    return seconds;
  }

  /** The server's own place (address, port, socket) is the node's to set. */
  private static final List<String> RESERVED_PG_SETTINGS =
      List.of("listen_addresses", "port", "unix_socket_directories", "data_directory");

  /**
   * "name=value,name=value" as checked name=value pairs. They reach pg_ctl's command line, so names
   * and values are kept to characters that need no quoting there.
   */
  static List<String> embeddedSettings(String text) {
    List<String> settings = new ArrayList<>();
    for (String part : text == null ? new String[0] : text.split(",")) {
      String setting = part.strip();
      if (setting.isEmpty()) {
        continue;
      }
      if (!setting.matches("[a-z][a-z0-9_.]*=[A-Za-z0-9_.:+-]+")) {
        throw new IllegalArgumentException("pg.embedded_settings: \"" + setting
            + "\" is not name=value (letters, digits and _ . : + - in the value, no spaces or quotes)");
      }
      String name = setting.substring(0, setting.indexOf('='));
      if (RESERVED_PG_SETTINGS.contains(name)) {
        throw new IllegalArgumentException("pg.embedded_settings: " + name + " is set by the node itself");
      }
      settings.add(setting);
    }
    return List.copyOf(settings);
  }

  /** Every SSE stream waits this long before it starts: keep it short. */
  private static int listenerCache(int millis) {
    if (millis < 0 || millis > 5000) {
      throw new IllegalArgumentException("live.listener_cache_ms must be between 0 and 5000, got " + millis);
    }
    return millis;
  }

  /** Typed reads of the flattened settings, naming the setting when one is malformed. */
  private record Settings(Map<String, Object> flat) {
    Object raw(String path) {
      if (!flat.containsKey(path)) {
        throw new IllegalStateException("conf/keypulse.yaml lacks " + path);
      }
      return flat.get(path);
    }

    String str(String path) {
      return String.valueOf(raw(path)).trim();
    }

    int integer(String path) {
      Object value = raw(path);
      if (value instanceof Number n) {
        return n.intValue();
      }
      throw new IllegalArgumentException(path + " must be a number, got '" + value + "'");
    }

    double decimal(String path) {
      Object value = raw(path);
      if (value instanceof Number n) {
        return n.doubleValue();
      }
      throw new IllegalArgumentException(path + " must be a number, got '" + value + "'");
    }

    List<String> list(String path) {
      Object value = raw(path);
      List<String> items = new ArrayList<>();
      if (value instanceof List<?> list) {
        list.forEach(item -> items.add(String.valueOf(item).trim()));
      } else {
        Arrays.stream(String.valueOf(value).split(",")).map(String::trim).forEach(items::add);
      }
      items.removeIf(String::isEmpty);
      return List.copyOf(items);
    }

    /** A list of positive durations in milliseconds, e.g. "1000,4000,16000". */
    List<Long> millis(String path) {
      List<Long> out = new ArrayList<>();
      for (String item : list(path)) {
        try {
          long value = Long.parseLong(item);
          if (value > 0) {
            out.add(value);
            continue;
          }
        } catch (NumberFormatException ignored) {
          // reported below
        }
        throw new IllegalArgumentException(path + " must be positive milliseconds separated by commas, got '"
            + raw(path) + "'");
      }
      return List.copyOf(out);
    }
  }
}
