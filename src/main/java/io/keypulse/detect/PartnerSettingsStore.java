package io.keypulse.detect;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/** The policies and thresholds tables; exemptions through their own store. */
public final class PartnerSettingsStore {
  private static final String OVERRIDES = "SELECT policy FROM policies WHERE partner_id = $1";
  private static final String SAVE = """
      INSERT INTO policies (partner_id, policy) VALUES ($1, $2)
      ON CONFLICT (partner_id) DO UPDATE SET policy = excluded.policy, updated_at = now()
      """;
  private static final String THRESHOLDS = """
      SELECT id, partner_id, name, event_type, key_id, threshold, time_window, warn_at_pct, created_at
      FROM thresholds WHERE partner_id = $1 AND active ORDER BY id
      """;
  private static final String CREATE = """
      INSERT INTO thresholds (partner_id, name, event_type, key_id, threshold, time_window, warn_at_pct)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      RETURNING id, partner_id, name, event_type, key_id, threshold, time_window, warn_at_pct, created_at
      """;
  private static final String DEACTIVATE =
      "UPDATE thresholds SET active = false WHERE partner_id = $1 AND id = $2 AND active RETURNING id";

  private final Pool pool;
  private final Policy defaults;
  private final ExemptionStore exemptions;

  public PartnerSettingsStore(Pool pool, Policy defaults) {
    this.pool = pool;
    this.defaults = defaults;
    this.exemptions = new ExemptionStore(pool);
  }

  public Policy defaults() {
    return defaults;
  }

  public ExemptionStore exemptions() {
    return exemptions;
  }

  public Future<PartnerSettings> load(String partnerId) {
    return Future.all(overrides(partnerId), thresholds(partnerId), exemptions.active(partnerId))
        .map(all -> new PartnerSettings(PolicyJson.effective(defaults, all.resultAt(0)), all.resultAt(1),
            all.resultAt(2)));
  }

  /** The fields this partner changed (empty: all defaults). */
  public Future<JsonObject> overrides(String partnerId) {
    return pool.preparedQuery(OVERRIDES).execute(Tuple.of(partnerId))
        .map(rows -> rows.size() == 0 ? new JsonObject() : rows.iterator().next().getJsonObject("policy"));
  }

  public Future<Void> saveOverrides(String partnerId, JsonObject overrides) {
    return pool.preparedQuery(SAVE).execute(Tuple.of(partnerId, overrides)).mapEmpty();
  }

  public Future<List<Threshold>> thresholds(String partnerId) {
    return pool.preparedQuery(THRESHOLDS).execute(Tuple.of(partnerId)).map(rows -> {
      List<Threshold> out = new ArrayList<>();
      rows.forEach(row -> out.add(threshold(row)));
      return out;
    });
  }

  public Future<Threshold> create(Threshold t) {
    return create(pool, t);
  }

  /** In the caller's transaction (which records the request's Idempotency-Key with it). */
  public Future<Threshold> create(SqlClient client, Threshold t) {
    return client.preparedQuery(CREATE).execute(Tuple.of(t.partnerId(), t.name(), t.eventType(), t.keyId(),
            t.threshold(), t.window(), t.warnAtPct()))
        .map(rows -> threshold(rows.iterator().next()));
  }

  public Future<Boolean> deactivate(String partnerId, long id) {
    return pool.preparedQuery(DEACTIVATE).execute(Tuple.of(partnerId, id)).map(rows -> rows.size() == 1);
  }

  private static Threshold threshold(Row r) {
    return new Threshold(r.getLong("id"), r.getString("partner_id"), r.getString("name"), r.getString("event_type"),
        r.getString("key_id"), r.getInteger("threshold"), r.getString("time_window"), r.getInteger("warn_at_pct"),
        r.getOffsetDateTime("created_at").toInstant());
  }
}
