package io.keypulse.partner;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The partners table: registration (partner + first key, one transaction) and plans. */
public final class Partners {
  private static final String INSERT_PARTNER =
      "INSERT INTO partners (id, name, webhook_url, webhook_secret_enc) VALUES ($1, $2, $3, $4)";
  private static final String SET_PLAN = """
      UPDATE partners SET rate_limit_per_min = $2, partner_rate_limit_per_min = $3, max_active_keys = $4
      WHERE id = $1
      """;
  private static final String SET_STATUS = "UPDATE partners SET status = $2 WHERE id = $1";
  private static final String SET_WEBHOOK = "UPDATE partners SET webhook_url = $2 WHERE id = $1";
  private static final String WEBHOOK = "SELECT webhook_url FROM partners WHERE id = $1";
  private static final String SECRETS =
      "SELECT webhook_secret_enc, previous_webhook_secret_enc, previous_secret_until FROM partners WHERE id = $1";
  private static final String ROTATE_SECRET = """
      UPDATE partners SET previous_webhook_secret_enc = webhook_secret_enc,
             previous_secret_until = now() + $3::integer * interval '1 second', webhook_secret_enc = $2
      WHERE id = $1
      """;
  private static final String LIST = """
      SELECT p.id, p.name, p.status, p.rate_limit_per_min, p.partner_rate_limit_per_min, p.max_active_keys,
             p.webhook_url, p.created_at,
             count(k.id) FILTER (WHERE k.status = 'active') AS active_keys
      FROM partners p LEFT JOIN api_keys k ON k.partner_id = p.id
      WHERE p.id > $1 GROUP BY p.id ORDER BY p.id LIMIT $2
      """;
  private static final String UNIQUE_VIOLATION = "23505";

  private final Pool pool;
  private final SecretBox secrets;

  public Partners(Pool pool, SecretBox secrets) {
    this.pool = pool;
    this.secrets = secrets;
  }

  public Future<Registration> register(String name, String webhookUrl) {
    return attempt(name, webhookUrl, 3);
  }

  /** Partner ids are 32 random bits: a collision is rare but possible, so draw again. */
  private Future<Registration> attempt(String name, String webhookUrl, int triesLeft) {
    String partnerId = Credentials.newPartnerId();
    String apiKey = Credentials.newApiKey(Credentials.PARTNER_KEY_PREFIX);
    String secret = Credentials.newWebhookSecret();
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT_PARTNER)
            .execute(Tuple.of(partnerId, name, webhookUrl, Buffer.buffer(secrets.seal(secret))))
            .compose(done -> ApiKeys.insert(conn, partnerId, "default", apiKey, "registration")))
        .map(key -> new Registration(partnerId, apiKey, secret))
        .recover(failure -> failure instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())
            && triesLeft > 1 ? attempt(name, webhookUrl, triesLeft - 1) : Future.failedFuture(failure));
  }

  /**
   * A partner's plan; each null means the node default (rate_limit.per_min per key, the partner
   * multiplier times that over all keys, rate_limit.max_active_keys).
   */
  public record Plan(Integer perKey, Integer perPartner, Integer maxActiveKeys) {}

  /** Replaces the partner's plan. False if no such partner. */
  public Future<Boolean> setPlan(String partnerId, Plan plan) {
    return pool.preparedQuery(SET_PLAN).execute(Tuple.of(partnerId, plan.perKey(), plan.perPartner(),
        plan.maxActiveKeys())).map(r -> r.rowCount() == 1);
  }

  /** Partners in id order, after the given id (paging for operators). */
  public Future<List<PartnerInfo>> list(String afterId, int limit) {
    return pool.preparedQuery(LIST).execute(Tuple.of(afterId, limit)).map(rows -> {
      List<PartnerInfo> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new PartnerInfo(r.getString("id"), r.getString("name"), r.getString("status"),
            r.getInteger("rate_limit_per_min"), r.getInteger("partner_rate_limit_per_min"),
            r.getInteger("max_active_keys"), r.getString("webhook_url"),
            r.getOffsetDateTime("created_at").toInstant(), r.getLong("active_keys")));
      }
      return out;
    });
  }

  /** The partner webhook for detector alerts (null: none). */
  public Future<Boolean> setWebhookUrl(String partnerId, String url) {
    return pool.preparedQuery(SET_WEBHOOK).execute(Tuple.of(partnerId, url)).map(r -> r.rowCount() == 1);
  }

  public Future<Optional<String>> webhookUrl(String partnerId) {
    return pool.preparedQuery(WEBHOOK).execute(Tuple.of(partnerId)).map(rows -> rows.size() == 0
        ? Optional.empty()
        : Optional.ofNullable(rows.iterator().next().getString(0)));
  }

  /** The secrets webhooks are signed with, decrypted (empty if no such partner). */
  public Future<Optional<WebhookSecrets>> webhookSecrets(String partnerId) {
    return pool.preparedQuery(SECRETS).execute(Tuple.of(partnerId)).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      Buffer previous = row.getBuffer("previous_webhook_secret_enc");
      return Optional.of(new WebhookSecrets(secrets.open(row.getBuffer("webhook_secret_enc").getBytes()),
          previous == null ? null : secrets.open(previous.getBytes()),
          row.getOffsetDateTime("previous_secret_until") == null ? null
              : row.getOffsetDateTime("previous_secret_until").toInstant()));
    });
  }

  /**
   * Replaces the webhook secret; returns the new one (shown once). The replaced one goes on
   * signing beside it for overlapSeconds (a secret replaced earlier stops at once).
   */
  public Future<String> rotateWebhookSecret(String partnerId, int overlapSeconds) {
    String secret = Credentials.newWebhookSecret();
    return pool.preparedQuery(ROTATE_SECRET)
        .execute(Tuple.of(partnerId, Buffer.buffer(secrets.seal(secret)), overlapSeconds))
        .map(done -> secret);
  }

  public Future<Boolean> setStatus(String partnerId, String status) {
    return pool.preparedQuery(SET_STATUS).execute(Tuple.of(partnerId, status)).map(r -> r.rowCount() == 1);
  }
}
