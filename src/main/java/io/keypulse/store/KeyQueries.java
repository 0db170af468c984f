package io.keypulse.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads of the keys table, which every group commit keeps current. */
public final class KeyQueries {
  private static final String LIST = """
      SELECT id, key_id, name, key_type, event_count, first_event_at, last_activity, created_event_at,
             deleted_event_at, last_rotated, rotation_policy_days, business_hours, first_signed_at, last_signed_at,
             first_used_at, last_used_at
      FROM keys WHERE partner_id = $1 AND id > $2 ORDER BY id LIMIT $3
      """;

  private static final String ONE = """
      SELECT id, key_id, name, key_type, event_count, first_event_at, last_activity, created_event_at,
             deleted_event_at, last_rotated, rotation_policy_days, business_hours, first_signed_at, last_signed_at,
             first_used_at, last_used_at
      FROM keys WHERE partner_id = $1 AND key_id = $2
      """;

  /** The partner's policy as far as key listings show it. */
  public record Defaults(int rotationPolicyDays, Duration learningPeriod, int newSourceMinHistory,
                         Duration newSourceLearning) {}

  /** Off-hours signing also wants three days of observed signings before it judges an hour. */
  private static final Duration OFF_HOURS_HISTORY = Duration.ofDays(3);

  private final Pool pool;

  public KeyQueries(Pool pool) {
    this.pool = pool;
  }

  /** Keys in the order they first appeared, after the given id; a page of at most {@code limit}. */
  public Future<List<KeyView>> list(String partnerId, long afterId, int limit, Defaults defaults) {
    return pool.preparedQuery(LIST).execute(Tuple.of(partnerId, afterId, limit)).map(rows -> {
      List<KeyView> keys = new ArrayList<>();
      rows.forEach(row -> keys.add(view(row, defaults)));
      return keys;
    });
  }

  /** One key of the partner's; empty when it has none of that id. */
  public Future<Optional<KeyView>> find(String partnerId, String keyId, Defaults defaults) {
    return pool.preparedQuery(ONE).execute(Tuple.of(partnerId, keyId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(view(rows.iterator().next(), defaults)));
  }

  /**
   * Sets the given per-key settings (name, key_type, rotation_policy_days, business_hours; a null
   * value clears one). Empty when the partner has no such key.
   */
  public Future<Optional<KeyView>> update(String partnerId, String keyId, Map<String, Object> settings,
                                          Defaults defaults) {
    List<Object> params = new ArrayList<>(List.of(partnerId, keyId));
    List<String> sets = new ArrayList<>();
    settings.forEach((column, value) -> {
      params.add(value);
      sets.add(column + " = $" + params.size());
    });
    String sql = "UPDATE keys SET " + String.join(", ", sets) + " WHERE partner_id = $1 AND key_id = $2";
    return pool.preparedQuery(sql).execute(Tuple.from(params))
        .compose(done -> find(partnerId, keyId, defaults));
  }

  private static KeyView view(Row row, Defaults defaults) {
    Instant first = instant(row, "first_event_at");
    Instant last = instant(row, "last_activity");
    Instant created = instant(row, "created_event_at");
    Instant deleted = instant(row, "deleted_event_at");
    boolean isDeleted = deleted != null && (created == null || !deleted.isBefore(created));
    Integer policy = row.getInteger("rotation_policy_days");
    Duration signing = span(row, "first_signed_at", "last_signed_at");
    Map<String, String> baseline = new LinkedHashMap<>();
    baseline.put("signing_volume_spike", state(signing.compareTo(defaults.learningPeriod()) >= 0));
    baseline.put("off_hours_signing", state(signing.compareTo(defaults.learningPeriod()) >= 0
        && signing.compareTo(OFF_HOURS_HISTORY) >= 0));
    String sources = state(row.getLong("event_count") >= defaults.newSourceMinHistory()
        && span(row, "first_used_at", "last_used_at").compareTo(defaults.newSourceLearning()) >= 0);
    baseline.put("new_source_ip", sources);
    baseline.put("new_actor", sources);
    return new KeyView(row.getLong("id"), row.getString("key_id"), row.getString("name"), row.getString("key_type"),
        isDeleted ? "deleted" : "active", row.getLong("event_count"), first, last, created != null ? created : first,
        instant(row, "last_rotated"), policy != null ? policy : defaults.rotationPolicyDays(),
        baseline.get("signing_volume_spike"), baseline, row.getJsonObject("business_hours"));
  }

  private static Duration span(Row row, String first, String last) {
    Instant from = instant(row, first);
    return from == null ? Duration.ZERO : Duration.between(from, instant(row, last));
  }

  private static String state(boolean ready) {
    return ready ? "ready" : "learning";
  }

  private static Instant instant(Row row, String column) {
    OffsetDateTime value = row.getOffsetDateTime(column);
    return value == null ? null : value.toInstant();
  }
}
