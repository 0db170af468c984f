package io.keypulse.detect;

import io.keypulse.db.Weeks;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GET /api/v1/detectors: each detector's settings for the partner, its alerts of the last 30 days,
 * and the partner's own precision from its verdicts. A benign verdict counts as a correct alert
 * (the detector saw what happened; it was allowed), a false positive as a wrong one.
 */
public final class DetectorReport {
  private static final String COUNTS = """
      SELECT rule, count(*) AS alerts,
             count(*) FILTER (WHERE status = 'open') AS open,
             count(*) FILTER (WHERE resolution = 'true_positive') AS true_positive,
             count(*) FILTER (WHERE resolution = 'false_positive') AS false_positive,
             count(*) FILTER (WHERE resolution = 'benign') AS benign
      FROM alerts WHERE partner_id = $1 AND triggered_at > now() - interval '30 days' AND id >= $2
      GROUP BY rule
      """;
  private static final List<String> VERDICTS = List.of("true_positive", "false_positive", "benign");

  private final Pool pool;
  private final PartnerSettingsStore settings;
  private final Duration futureSkew;

  /**
   * futureSkew: how far ahead of its commit an event's time may be; an alert is written after its
   * event, so one triggered in the last 30 days has an id from (30 days + skew) ago on.
   */
  public DetectorReport(Pool pool, PartnerSettingsStore settings, Duration futureSkew) {
    this.pool = pool;
    this.settings = settings;
    this.futureSkew = futureSkew;
  }

  /** The nine detectors in catalogue order, then the partner's active thresholds. */
  public Future<JsonArray> detectors(String partnerId) {
    return Future.all(settings.overrides(partnerId), settings.thresholds(partnerId), counts(partnerId)).map(all -> {
      JsonObject policy = PolicyJson.render(PolicyJson.effective(settings.defaults(), all.resultAt(0)));
      Map<String, Row> counts = all.resultAt(2);
      JsonArray out = new JsonArray();
      for (DetectorCatalog.Entry d : DetectorCatalog.ALL) {
        JsonObject tuning = new JsonObject();
        d.settings().forEach(field -> tuning.put(field, policy.getValue(field)));
        out.add(entry(d.rule(), d.description(), tuning, counts.get(d.rule())));
      }
      List<Threshold> thresholds = all.resultAt(1);
      thresholds.forEach(t -> out.add(entry(t.name(), description(t), thresholdSettings(t), counts.get(t.name()))));
      return out;
    });
  }

  private Future<Map<String, Row>> counts(String partnerId) {
    long from = Weeks.firstIdFrom(Instant.now().minus(Duration.ofDays(30)).minus(futureSkew));
    return pool.preparedQuery(COUNTS).execute(Tuple.of(partnerId, from)).map(rows -> {
      Map<String, Row> byRule = new HashMap<>();
      rows.forEach(row -> byRule.put(row.getString("rule"), row));
      return byRule;
    });
  }

  private static JsonObject entry(String rule, String description, JsonObject tuning, Row counts) {
    JsonObject verdicts = new JsonObject();
    VERDICTS.forEach(v -> verdicts.put(v, counts == null ? 0L : counts.getLong(v)));
    long judged = verdicts.getLong("true_positive") + verdicts.getLong("false_positive") + verdicts.getLong("benign");
    long right = verdicts.getLong("true_positive") + verdicts.getLong("benign");
    return new JsonObject().put("rule", rule).put("description", description).put("settings", tuning)
        .put("alerts_30d", counts == null ? 0L : counts.getLong("alerts"))
        .put("open", counts == null ? 0L : counts.getLong("open"))
        .put("verdicts", verdicts)
        .put("precision", judged == 0 ? null : Math.round(1000.0 * right / judged) / 1000.0);
  }

  private static String description(Threshold t) {
    return "Your threshold: at most " + t.threshold() + " " + t.eventType() + " events "
        + (t.keyId() == null ? "per key" : "on key " + t.keyId()) + " in " + t.window() + ", warning at "
        + t.warnAtPct() + " %.";
  }

  private static JsonObject thresholdSettings(Threshold t) {
    return new JsonObject().put("event_type", t.eventType()).put("key_id", t.keyId()).put("threshold", t.threshold())
        .put("window", t.window()).put("warn_at_pct", t.warnAtPct());
  }
}
