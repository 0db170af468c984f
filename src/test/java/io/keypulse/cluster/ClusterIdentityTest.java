package io.keypulse.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keypulse.KeyPulseNode;
import io.keypulse.StartupFailure;
import io.keypulse.config.Config;
import io.keypulse.config.ConfigLoader;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.TestNode;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Growing a cluster: the join file, and members that do not share its secrets or database refused")
class ClusterIdentityTest {
  private static final String[] OPERATOR = {"Authorization", "Bearer test-admin-token"};

  @Test
  @DisplayName("a member with another admin token, JWT secret, master key or database is refused, in one line naming "
      + "the setting; the cluster carries on; one that shares them joins and shows in the cluster table")
  void mismatchesRefused() {
    PgTarget pg = TestPostgres.freshDatabase();
    String name = "identity-" + UUID.randomUUID();
    Map<String, Object> first = TestNode.defaults(pg, name);
    try (KeyPulseNode a = TestNode.start(first)) {
      assertRefused(member(first, pg, "admin.token", "another-token"), "admin token (admin.token, KEYPULSE_ADMIN_TOKEN)");
      assertRefused(member(first, pg, "live.jwt_secret", "another-jwt-secret-another-jwt-secret-0000"),
          "JWT secret (live.jwt_secret, KEYPULSE_LIVE_JWT_SECRET)");
      assertRefused(member(first, pg, "secrets.master_key", "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
          "master key (secrets.master_key, KEYPULSE_SECRETS_MASTER_KEY)");
      assertRefused(member(first, TestPostgres.freshDatabase(), "admin.token", "test-admin-token"), "database (pg.url, --pg)");

      Api api = new Api(a.port());
      long until = System.currentTimeMillis() + 15_000;
      while (api.get("/admin/cluster", OPERATOR).array("members").size() > 1 && System.currentTimeMillis() < until) {
        Sleep.millis(200);
      }
      assertThat(api.get("/admin/cluster", OPERATOR).array("members")).as("the refused left").hasSize(1);

      try (KeyPulseNode b = TestNode.start(member(first, pg, "admin.token", "test-admin-token"))) {
        JsonObject view = api.get("/admin/cluster", OPERATOR).json();
        List<JsonObject> members = view.getJsonArray("members").stream().map(JsonObject.class::cast).toList();
        assertThat(members).hasSize(2);
        assertThat(members).allSatisfy(m -> {
          assertThat(m.getBoolean("answered")).isTrue();
          assertThat(m.getBoolean("ready")).isTrue();
          assertThat(m.getLong("outbox_backlog")).isZero();
          assertThat(m.getLong("detector_keys")).isNotNull();
        });
        assertThat(members).extracting(m -> m.getString("http_url"))
            .containsExactlyInAnyOrder("http://127.0.0.1:" + a.port(), "http://127.0.0.1:" + b.port());
        assertThat(members).extracting(m -> m.getLong("partitions_owned")).allSatisfy(n -> assertThat(n).isPositive());
        assertThat(members).filteredOn(m -> m.getBoolean("scheduler_leader")).hasSize(1);
      }
    }
  }

  @Test
  @DisplayName("a single node's join file names its cluster, itself, its Postgres and its secrets' files, never a "
      + "secret; a member started from it joins")
  void joinFileOfASingleNode() throws Exception {
    Map<String, Object> single = TestNode.defaults(null, "single-" + UUID.randomUUID());
    single.put("admin.token", "");  // generated into data_dir, as a first `run` does
    single.put("live.jwt_secret", "");
    single.put("secrets.master_key", "");
    single.put("webhook.allowed_cidrs", "127.0.0.0/8");
    Config config = ConfigLoader.load(Map.of(), new HashMap<>(single));
    try (KeyPulseNode a = KeyPulseNode.start(config)) {
      Path file = JoinFile.write(config, a.pgTarget(), "http://127.0.0.1:" + a.port());
      String text = Files.readString(file);
      Path dataDir = config.dataDir().toAbsolutePath();
      for (String secret : List.of("admin-token", "jwt-secret", "master-key", "pg-url")) {
        assertThat(text).contains(dataDir.resolve(secret).toString())
            .doesNotContain(Files.readString(dataDir.resolve(secret)).trim());
      }
      assertThat(Files.getPosixFilePermissions(dataDir.resolve("pg-url")))
          .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

      Map<String, Object> overrides = new HashMap<>(JoinFile.read(file));
      assertThat(overrides).containsEntry("cluster.members", "127.0.0.1:" + config.cluster().port())
          .containsEntry("webhook.allowed_cidrs", "127.0.0.0/8");
      Map<String, Object> second = TestNode.defaults(null, "ignored");
      second.keySet().removeAll(List.of("admin.token", "live.jwt_secret", "secrets.master_key", "cluster.name"));
      second.putAll(overrides);
      try (KeyPulseNode b = TestNode.start(second)) {
        Api api = new Api(b.port());
        String token = Files.readString(dataDir.resolve("admin-token")).trim();
        assertThat(api.get("/admin/cluster", "Authorization", "Bearer " + token).array("members")).hasSize(2);
      }
    }
  }

  @Test
  @DisplayName("a join file that is missing, or names a file that is not there, is one line naming it")
  void brokenJoinFile() throws Exception {
    Path dir = TestPostgres.tempDir("join-");
    assertThatThrownBy(() -> JoinFile.read(dir.resolve("join.json"))).isInstanceOf(StartupFailure.class)
        .hasMessageContaining("--join-file").hasMessageContaining("does not exist");
    Path file = dir.resolve("join.json");
    Files.writeString(file, new JsonObject().put("cluster_name", "c").put("members", List.of("127.0.0.1:5701"))
        .put("pg_url_file", dir.resolve("pg-url").toString()).encode());
    assertThatThrownBy(() -> JoinFile.read(file)).isInstanceOf(StartupFailure.class)
        .hasMessageContaining("pg_url_file names " + dir.resolve("pg-url"));
  }

  /** The first node's settings, on its own ports and data directory, joining it, with one setting changed. */
  private static Map<String, Object> member(Map<String, Object> first, PgTarget pg, String setting, Object value) {
    Map<String, Object> o = TestNode.defaults(pg, (String) first.get("cluster.name"));
    o.put("cluster.members", "127.0.0.1:" + first.get("cluster.port"));
    o.put(setting, value);
    return o;
  }

  private static void assertRefused(Map<String, Object> settings, String named) {
    assertThatThrownBy(() -> TestNode.start(settings)).satisfies(e -> {
      String line = StartupFailure.explain(e, null);
      assertThat(line).startsWith("refusing to join cluster").contains(named + " differs").doesNotContain("\n");
    });
  }
}
