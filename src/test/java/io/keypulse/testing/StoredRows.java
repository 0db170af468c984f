package io.keypulse.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Everything a partner or operator request can write, as one string to compare before and after:
 * per table the row count and a digest of the columns requests set. Columns the node itself moves
 * (last_used_at, detector checkpoints, delivery attempts) are left out, so the string stays still
 * while nothing is accepted.
 */
public final class StoredRows implements AutoCloseable {
  private static final Map<String, String> COLUMNS = new LinkedHashMap<>();

  static {
    COLUMNS.put("partners", "id, name, webhook_url, webhook_secret_enc, rate_limit_per_min, status");
    COLUMNS.put("api_keys", "id, partner_id, name, status");
    COLUMNS.put("events", "id, partner_id, key_id, event_type, actor, details::text");
    COLUMNS.put("keys", "id, key_id, name, key_type, rotation_policy_days, business_hours::text");
    COLUMNS.put("stats_totals", "scope, total_keys, total_events");
    COLUMNS.put("policies", "partner_id, policy::text");
    COLUMNS.put("thresholds", "id, name, event_type, key_id, threshold, time_window, warn_at_pct, active");
    COLUMNS.put("alerts", "id, status, resolution, note");
    COLUMNS.put("rules", "id, name, event_type_match, webhook_url, severity, is_active");
    COLUMNS.put("deliveries", "id, url, event, attempt_base");
    COLUMNS.put("exemptions", "id, rule, key_id, key_prefix, source_ip_cidr, actor, expires_at, reason, active");
  }

  private static final String SQL = "SELECT concat_ws(' ', " + COLUMNS.entrySet().stream()
      .map(t -> "(SELECT '" + t.getKey() + "=' || count(*) || ':' || coalesce(md5(string_agg(r::text, ';' ORDER BY "
          + "r::text)), '') FROM (SELECT " + t.getValue() + " FROM " + t.getKey() + ") r)")
      .collect(Collectors.joining(", ")) + ")";

  private final Connection connection;

  /** Holds a connection open: a test reads this before and after each of hundreds of requests. */
  public StoredRows(Db db) {
    try {
      this.connection = db.connect();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public String now() {
    try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(SQL)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(SQL, e);
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
