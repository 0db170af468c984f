package io.keypulse.testing;

import io.keypulse.KeyPulseNode;
import io.keypulse.config.Config;
import io.keypulse.config.ConfigLoader;
import io.keypulse.db.PgTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Starts real nodes for tests: real Postgres, real HTTP on a free port, a real Hazelcast member. */
public final class TestNode {
  /** secrets.master_key of every test node: a test may seal a webhook secret as a node would. */
  public static final String MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

  /** live.jwt_secret of every test node: members of one cluster must share it (ClusterIdentity). */
  public static final String JWT_SECRET = "dGVzdC1qd3Qtc2VjcmV0LW9mLWV2ZXJ5LXRlc3Qtbm9kZQ";

  private TestNode() {}

  /**
   * Settings every test node shares; generous limits unless a test is about limits. A null pg: the
   * node starts its own embedded Postgres in its data_dir.
   */
  public static Map<String, Object> defaults(PgTarget pg, String clusterName) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("pg.url", pg == null ? "" : pg.url());
    o.put("http.port", 0);
    o.put("http.instances", 2);
    o.put("data_dir", TestPostgres.tempDir("keypulse-node-").toString());
    o.put("cluster.name", clusterName);
    o.put("cluster.port", freePort());
    o.put("rate_limit.per_min", 100_000);
    o.put("rate_limit.register_per_min", 100_000);
    o.put("rate_limit.anonymous_per_min", 100_000);
    // Refusals are answered at once in tests (AdmissionTest checks the delay itself).
    o.put("rate_limit.refusal_delay_ms", 0);
    o.put("admin.token", "test-admin-token");
    o.put("secrets.master_key", MASTER_KEY);
    o.put("live.jwt_secret", JWT_SECRET);
    // Time-driven work at test speed.
    o.put("schedule.rotation_check_seconds", 1);
    o.put("schedule.rescue_check_seconds", 1);
    o.put("schedule.rescue_after_seconds", 2);
    o.put("detect.checkpoint_seconds", 1);
    return o;
  }

  public static KeyPulseNode start(PgTarget pg) {
    return start(defaults(pg, "test-" + UUID.randomUUID()));
  }

  public static KeyPulseNode start(Map<String, Object> overrides) {
    Config config = ConfigLoader.load(Map.of(), new HashMap<>(overrides));
    return KeyPulseNode.start(config);
  }

  /**
   * A free port below the ephemeral range, never one handed out before in this JVM. A port from the
   * ephemeral range could be taken between this check and the node's bind by anything binding port 0:
   * a node's embedded Postgres took its own node's HTTP port that way (JsonLogsTest, CI 2026-12-02).
   */
  public static int freePort() {
    int low = ephemeralLow();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(Math.max(1024, low - 12_000), low);
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port)) {
        if (HANDED_OUT.add(port)) {
          return port;
        }
      } catch (IOException inUse) {
        // taken: try another
      }
    }
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private static int ephemeralLow() {
    try {
      // readAllLines: readString of a /proc file returned only its first byte here (JDK 17).
      int low = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
          .split("\\s+")[0]);
      return low > 2048 ? low : 32768;
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }
}
