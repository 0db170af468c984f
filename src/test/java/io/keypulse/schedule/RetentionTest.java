package io.keypulse.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keypulse.config.Config;
import io.keypulse.db.Migrations;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.db.Weeks;
import io.keypulse.detect.PolicyJson;
import io.keypulse.testing.Db;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Retention: weekly partitions dropped past the longest retention, shorter ones cut in chunks")
class RetentionTest {
  private static final List<String> TABLES = List.of("events", "alerts", "deliveries", "delivery_attempts");

  @Test
  @DisplayName("a partner's retention_days is at least 7")
  void policyBounds() {
    assertThatThrownBy(() -> PolicyJson.validate(new JsonObject().put("retention_days", 6)))
        .hasMessageContaining("retention_days must be an integer from 7 to 3650");
    assertThat(PolicyJson.validate(new JsonObject().put("retention_days", 7)).getInteger("retention_days")).isEqualTo(7);
  }

  @Test
  @DisplayName("weeks older than every partner's retention go whole; a 7-day partner loses its older rows (and their "
      + "webhooks' attempts) in chunks, oldest first, and keeps the rest; partitions are made ahead; an emptied legacy "
      + "partition goes")
  void retention() {
    PgTarget pg = TestPostgres.freshDatabase();
    Migrations.apply(pg);
    Db db = new Db(pg);
    Instant now = Instant.now();
    long week = Weeks.week(now);
    long oldest = Weeks.week(now.minus(Duration.ofDays(60)));
    for (String table : TABLES) {
      db.execute("ALTER TABLE " + table + " DETACH PARTITION " + table + "_legacy");
      db.execute("DROP TABLE " + table + "_legacy");
      db.execute("CREATE TABLE " + table + "_legacy PARTITION OF " + table + " FOR VALUES FROM (MINVALUE) TO ("
          + Weeks.base(oldest) + ")");
      for (long w = oldest; w < week; w++) {
        db.execute("CREATE TABLE " + table + "_w" + w + " PARTITION OF " + table + " FOR VALUES FROM (" + Weeks.base(w)
            + ") TO (" + Weeks.base(w + 1) + ")");
      }
    }
    db.execute("INSERT INTO partners (id, name, webhook_secret_enc) VALUES ('p_short', 's', '\\x00'), ('p_long', 'l', '\\x00')");
    db.execute("INSERT INTO policies (partner_id, policy) VALUES ('p_short', '{\"retention_days\": 7}')");
    // Every partner keeps 30 days here (the node default, in the test): one row per partner every 12 hours over
    // 60 days, in the week its time says; the oldest are in the legacy partition.
    long rows = 0;
    // Oldest first, so that ids follow time as commits make them.
    for (int h = 60 * 24 - 12; h >= 0; h -= 12) {
      Instant at = now.minus(Duration.ofHours(h)).minusSeconds(60);
      long w = Weeks.week(at);
      for (String partner : List.of("p_short", "p_long")) {
        long id = w < oldest ? 1 + rows : Weeks.base(w) + 1 + rows;
        rows++;
        db.execute("INSERT INTO events (id, partner_id, key_id, event_type, severity, details, occurred_at, created_at) "
            + "VALUES (" + id + ", '" + partner + "', 'k', 'x', 'nominal', '{}', '" + at + "', '" + at + "')");
        db.execute("INSERT INTO deliveries (id, partner_id, event, url, status, created_at) VALUES (" + id + ", '"
            + partner + "', 'rule_match', 'https://r.example/', 'delivered', '" + at + "')");
        db.execute("INSERT INTO delivery_attempts (partner_id, delivery_id, attempt, at, latency_ms, node) VALUES ('"
            + partner + "', " + id + ", 1, '" + at + "', 3, 'n')");
      }
    }
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = Pools.write(vertx, new Config.Pg(pg.url(), 0, List.of(), 1, 2, 2000, 3000, 1000, 1000, 30000), pg);
      Retention retention = new Retention(pool, 30, 3, 7);

      assertThat(retention.ensureAhead().await()).as("week + 3 ahead, 4 tables").isEqualTo(4);
      List<String> dropped = retention.dropExpiredWeeks(now).await();
      long firstKept = Weeks.week(now.minus(Duration.ofDays(30)).minus(Duration.ofHours(1)));
      assertThat(dropped).isNotEmpty().allSatisfy(name -> assertThat(Long.parseLong(name.replaceAll(".*_w", "")))
          .isLessThan(firstKept));
      assertThat(dropped).hasSize(4 * (int) (firstKept - oldest));
      Instant keptFrom = Weeks.start(firstKept);
      assertThat(db.count("SELECT count(*) FROM events WHERE id >= " + Weeks.base(oldest) + " AND created_at < '"
          + keptFrom + "'")).as("the weeks before the first kept one are gone").isZero();
      assertThat(db.count("SELECT count(*) FROM events WHERE created_at >= '" + keptFrom + "'"))
          .as("whole weeks only: the first kept week keeps rows older than 30 days")
          .isEqualTo(db.count("SELECT count(*) FROM events WHERE id >= " + Weeks.base(firstKept)));

      // Chunks of 7, at most 3 a run: the 7-day partner's older rows go over several runs, oldest first.
      long before = db.count("SELECT count(*) FROM events WHERE partner_id = 'p_short' AND created_at < now() - interval '7 days'");
      assertThat(before).isPositive();
      long deleted = retention.cutPartners(now, 3).await();
      assertThat(deleted).as("2 partners, 3 tables, 3 chunks of 7").isPositive().isLessThanOrEqualTo(2 * 3 * 3 * 7);
      for (int run = 0; run < 20; run++) {
        retention.cutPartners(now, 3).await();
      }
      assertThat(db.count("SELECT count(*) FROM events WHERE partner_id = 'p_short' AND created_at < now() - interval '7 days'"))
          .isZero();
      assertThat(db.count("SELECT count(*) FROM deliveries WHERE partner_id = 'p_short' AND created_at < now() - interval '7 days'"))
          .isZero();
      assertThat(db.count("SELECT count(*) FROM delivery_attempts WHERE partner_id = 'p_short' AND at < now() - interval '7 days'"))
          .as("their webhooks' log goes with them").isZero();
      assertThat(db.count("SELECT count(*) FROM events WHERE partner_id = 'p_short'")).as("the last 7 days kept")
          .isBetween(13L, 15L);
      assertThat(db.count("SELECT count(*) FROM events WHERE partner_id = 'p_long' AND created_at >= now() - interval '30 days'"))
          .as("the other partner keeps its 30 days").isBetween(59L, 61L);

      // The legacy partitions held only rows past every retention: emptied, then dropped.
      assertThat(retention.dropEmptyLegacy().await()).containsExactlyInAnyOrder("events_legacy", "alerts_legacy",
          "delivery_attempts_legacy", "deliveries_legacy");
    } finally {
      vertx.close().await();
    }
  }
}
