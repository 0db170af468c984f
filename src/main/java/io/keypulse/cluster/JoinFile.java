package io.keypulse.cluster;

import io.keypulse.StartupFailure;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a new member needs to join a cluster, in one file an operator passes to {@code node
 * --join-file}: the cluster's name and members, its Postgres, the settings every member must share,
 * and where its secrets are. It names files, never holds a secret or a password itself, so it can
 * be shown and copied; the files it names are readable by their owner only.
 *
 * <pre>
 * {"cluster_name": "...", "members": ["host:port", ...], "http_urls": ["http://host:port", ...],
 *  "pg_url_file": "/abs/pg-url",
 *  "secrets": {"admin_token": "/abs/admin-token", "jwt_secret": "...", "master_key": "..."},
 *  "settings": {"webhook.allowed_cidrs": "..."}}
 * </pre>
 *
 * A secret configured through the environment instead of a file is named as {@code "env:NAME"}: the
 * joining member must be given the same variable (and is refused if it differs).
 */
public final class JoinFile {
  public static final String NAME = "join.json";
  /** Secret name in the file -> the setting it fills, and the file a single node keeps it in (SecretFiles). */
  private static final Map<String, String[]> SECRETS = Map.of(
      "admin_token", new String[] {"admin.token", "admin-token"},
      "jwt_secret", new String[] {"live.jwt_secret", "jwt-secret"},
      "master_key", new String[] {"secrets.master_key", "master-key"});
  /** Settings a member must share with the cluster, beyond secrets, copied into the file by a single node. */
  private static final List<String> SHARED = List.of("webhook.allowed_cidrs");

  private JoinFile() {}

  /** The settings the file gives, as overrides by setting path. */
  public static Map<String, Object> read(Path file) {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new StartupFailure("--join-file " + file + " does not exist (`scripts/keypulse cluster` and a first "
          + "`scripts/keypulse run` write one and print its path)");
    } catch (IOException | DecodeException e) {
      throw new StartupFailure("--join-file " + file + " cannot be read: " + e.getMessage());
    }
    Path dir = file.toAbsolutePath().getParent();
    Map<String, Object> overrides = new LinkedHashMap<>();
    overrides.put("cluster.name", required(json, "cluster_name", file));
    JsonArray members = json.getJsonArray("members", new JsonArray());
    if (members.isEmpty()) {
      throw new StartupFailure("--join-file " + file + " lists no members to join");
    }
    overrides.put("cluster.members", String.join(",", members.stream().map(String::valueOf).toList()));
    overrides.put("pg.url", readFile(dir.resolve(required(json, "pg_url_file", file)), "pg_url_file", file));
    JsonObject secrets = json.getJsonObject("secrets", new JsonObject());
    SECRETS.forEach((name, setting) -> {
      String where = secrets.getString(name);
      if (where != null && !where.startsWith("env:")) {
        overrides.put(setting[0], readFile(dir.resolve(where), "secrets." + name, file));
      }
    });
    json.getJsonObject("settings", new JsonObject()).forEach(e -> overrides.put(e.getKey(), e.getValue()));
    return overrides;
  }

  /**
   * A single node's file, in its data directory: itself as the one member, its Postgres (the URL,
   * with its password, in data_dir/pg-url), and its secrets' files. Written at every start, since
   * the embedded Postgres's port may change.
   */
  public static Path write(Config config, PgTarget pg, String httpUrl) {
    Path dataDir = config.dataDir().toAbsolutePath();
    try {
      Path pgUrl = dataDir.resolve("pg-url");
      writePrivate(pgUrl, pg.url() + "\n");
      JsonObject secrets = new JsonObject();
      Map<String, String> configured = Map.of("admin_token", config.admin().token(),
          "jwt_secret", config.live().jwtSecret(), "master_key", config.secrets().masterKey());
      SECRETS.forEach((name, setting) -> secrets.put(name, configured.get(name) == null || configured.get(name).isBlank()
          ? dataDir.resolve(setting[1]).toString()
          : "env:KEYPULSE_" + setting[0].toUpperCase().replace('.', '_')));
      JsonObject settings = new JsonObject().put("webhook.allowed_cidrs", String.join(",", config.webhook().allowedCidrs()));
      JsonObject json = new JsonObject().put("cluster_name", config.cluster().name())
          .put("members", new JsonArray().add(config.cluster().host() + ":" + config.cluster().port()))
          .put("http_urls", new JsonArray().add(httpUrl))
          .put("pg_url_file", pgUrl.toString()).put("secrets", secrets).put("settings", settings);
      Path file = dataDir.resolve(NAME);
      Files.writeString(file, json.encodePrettily() + "\n");
      return file;
    } catch (IOException e) {
      throw new StartupFailure("cannot write the join file in --data-dir " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private static String required(JsonObject json, String field, Path file) {
    String value = json.getString(field);
    if (value == null || value.isBlank()) {
      throw new StartupFailure("--join-file " + file + " has no " + field);
    }
    return value;
  }

  private static String readFile(Path path, String field, Path joinFile) {
    try {
      return Files.readString(path).trim();
    } catch (IOException e) {
      throw new StartupFailure("--join-file " + joinFile + ": " + field + " names " + path + ", which cannot be read ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  private static void writePrivate(Path file, String text) throws IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }
}
