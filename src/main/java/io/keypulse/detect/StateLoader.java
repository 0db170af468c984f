package io.keypulse.detect;

import io.keypulse.bus.EventFacts;
import io.keypulse.db.Weeks;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;

/**
 * Rebuilds a key's (or a partner's) state when a shard first needs it: the latest checkpoint. The
 * shard then catches up on the events committed after it, from the event log, in commit order.
 * Without a checkpoint, the key's most recent events (and its lifetime facts from the keys table)
 * rebuild it.
 */
final class StateLoader {
  private static final int PAGE = 20_000;
  private static final String FACTS = FactsSql.COLUMNS;
  private static final String CHECKPOINT = "SELECT last_event_id, encode(state, 'base64') AS state FROM detector_state "
      + "WHERE owner = $1";
  private static final String KEY_ROW = """
      SELECT rotation_policy_days, business_hours, rotation_alerted_at, created_event_at, last_rotated
      FROM keys WHERE partner_id = $1 AND key_id = $2
      """;
  private static final String LATEST_ALERTS = """
      SELECT DISTINCT ON (rule) rule, severity, triggered_at FROM alerts
      WHERE partner_id = $1 AND key_id = $2 AND kind = 'anomaly_detected' AND id >= $3 ORDER BY rule, id DESC
      """;
  private static final String AFTER = "SELECT " + FACTS + " FROM events WHERE partner_id = $1 AND key_id = $2 "
      + "AND id > $3 AND id <= $4 ORDER BY id LIMIT " + PAGE;
  private static final String RECENT = "SELECT * FROM (SELECT " + FACTS + " FROM events WHERE partner_id = $1 "
      + "AND key_id = $2 AND id <= $3 AND id >= $4 ORDER BY id DESC LIMIT " + PAGE + ") recent ORDER BY id";
  /**
   * How far back an unanchored key's state is rebuilt from (its last PAGE events within it): the
   * baselines look a week back; a key silent for longer starts learning again. Bounded, so that
   * the rebuild reads only these weeks' partitions.
   */
  private static final Duration RECENT_HISTORY = Duration.ofDays(90);
  /** Open incidents are at most a week old (the longest suppression): their alerts are in these weeks. */
  private static final Duration INCIDENT_HISTORY = Duration.ofDays(8);
  private static final String CREATIONS_AFTER = "SELECT id, occurred_at FROM events WHERE partner_id = $1 AND id > $2 "
      + "AND canonical_type = 'create' ORDER BY id";
  private static final String RECENT_CREATIONS = """
      SELECT coalesce((SELECT max(last_event_id) FROM keys WHERE partner_id = $1), 0) AS up_to,
             array(SELECT created_event_at FROM keys WHERE partner_id = $1
                   AND created_event_at > now() - interval '8 days') AS created
      """;

  /** A key's state as of its checkpoint (an empty state if it has none). */
  record LoadedKey(KeyState state, boolean checkpointed) {}

  record LoadedPartner(PartnerState state, long upTo) {}

  private final Pool pool;
  private final int maxReads;
  /** Reads in flight, and those waiting for one to finish: confined to the shard's event loop. */
  private int reading;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();

  /** maxReads: detect.state_reads_per_shard, the reads (a key's load, a catch-up page) run at once. */
  StateLoader(Pool pool, int maxReads) {
    this.pool = pool;
    this.maxReads = maxReads;
  }

  /**
   * Runs a read once fewer than maxReads are in flight, in the order asked. A thousand keys seen
   * for the first time would otherwise queue thousands of queries on the node's query pool at once:
   * past its wait queue they fail, and the API's reads with them.
   */
  private <T> Future<T> limited(Supplier<Future<T>> read) {
    Promise<T> done = Promise.promise();
    Runnable start = () -> {
      reading++;
      Future<T> running;
      try {
        running = read.get();
      } catch (RuntimeException e) {
        running = Future.failedFuture(e);
      }
      running.onComplete(result -> {
        reading--;
        Runnable next = waiting.poll();
        if (next != null) {
          next.run();
        }
        done.handle(result);
      });
    };
    if (reading < maxReads) {
      start.run();
    } else {
      waiting.add(start);
    }
    return done.future();
  }

  Future<LoadedKey> key(String partnerId, String keyId) {
    return limited(() -> load(partnerId, keyId));
  }

  private Future<LoadedKey> load(String partnerId, String keyId) {
    return checkpoint(owner(partnerId, keyId)).compose(cp -> {
      KeyState read = cp == null ? null : KeyStateCodec.read(cp.state());
      KeyState state = read == null ? new KeyState() : read;
      if (read != null) {
        state.lastEventId = cp.lastEventId();
      }
      return settings(state, partnerId, keyId).compose(v -> incidents(state, partnerId, keyId))
          .map(v -> new LoadedKey(state, read != null));
    });
  }

  /**
   * The key's latest alert per detector, as open incidents: a shard that reloads a key (after a
   * failover, from a checkpoint older than its last alerts) and detects its latest events again
   * counts them as repeats of what was already raised, never as new alerts.
   */
  private Future<Void> incidents(KeyState state, String partnerId, String keyId) {
    long from = Weeks.firstIdFrom(Instant.now().minus(INCIDENT_HISTORY));
    return pool.preparedQuery(LATEST_ALERTS).execute(Tuple.of(partnerId, keyId, from)).map(rows -> {
      for (Row r : rows) {
        long at = millis(r.getOffsetDateTime("triggered_at"));
        KeyState.Incident known = state.incidents.get(r.getString("rule"));
        if (known == null || known.raisedAt < at) {
          state.open(r.getString("rule"), new KeyState.Incident(at, r.getString("severity")));
        }
      }
      return null;
    });
  }

  /**
   * The key's events after {@code afterId} up to {@code upToId}, in commit order, one page at most.
   * Unanchored (no checkpoint, nothing caught up yet): its most recent events up to upToId instead.
   */
  Future<List<EventFacts>> events(String partnerId, String keyId, boolean anchored, long afterId, long upToId) {
    return limited(() -> anchored
        ? pool.preparedQuery(AFTER).execute(Tuple.of(partnerId, keyId, afterId, upToId)).map(StateLoader::facts)
        : pool.preparedQuery(RECENT).execute(Tuple.of(partnerId, keyId, upToId,
            Weeks.firstIdFrom(Instant.now().minus(RECENT_HISTORY)))).map(StateLoader::facts));
  }

  static int page() {
    return PAGE;
  }

  /** Per-key overrides and the lifetime facts the keys table keeps (creation, last rotation). */
  Future<Void> settings(KeyState state, String partnerId, String keyId) {
    return pool.preparedQuery(KEY_ROW).execute(Tuple.of(partnerId, keyId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      state.rotationPolicyDays = row.getInteger("rotation_policy_days");
      Object hours = row.getValue("business_hours");
      state.businessHours = hours instanceof JsonObject json ? BusinessHours.read(json) : null;
      state.rotationAlertedAt = Math.max(state.rotationAlertedAt, millis(row.getOffsetDateTime("rotation_alerted_at")));
      state.createdAt = Math.max(state.createdAt, millis(row.getOffsetDateTime("created_event_at")));
      state.lastRotatedAt = Math.max(state.lastRotatedAt, millis(row.getOffsetDateTime("last_rotated")));
      return null;
    });
  }

  Future<LoadedPartner> partner(String partnerId) {
    return limited(() -> loadPartner(partnerId));
  }

  private Future<LoadedPartner> loadPartner(String partnerId) {
    return checkpoint("p:" + partnerId).compose(cp -> {
      if (cp != null) {
        PartnerState state = PartnerState.fromBytes(cp.state());
        return pool.preparedQuery(CREATIONS_AFTER).execute(Tuple.of(partnerId, cp.lastEventId())).map(rows -> {
          rows.forEach(r -> state.apply(r.getLong("id"), r.getOffsetDateTime("occurred_at").toInstant().toEpochMilli()));
          return new LoadedPartner(state, Math.max(cp.lastEventId(), state.lastEventId));
        });
      }
      return pool.preparedQuery(RECENT_CREATIONS).execute(Tuple.of(partnerId)).map(rows -> {
        Row row = rows.iterator().next();
        PartnerState state = new PartnerState();
        for (OffsetDateTime created : row.getArrayOfOffsetDateTimes("created")) {
          state.apply(0, created.toInstant().toEpochMilli());
        }
        state.lastEventId = row.getLong("up_to");
        return new LoadedPartner(state, state.lastEventId);
      });
    });
  }

  static String owner(String partnerId, String keyId) {
    return "k:" + partnerId + "/" + keyId;
  }

  private record Checkpoint(long lastEventId, byte[] state) {}

  private Future<Checkpoint> checkpoint(String owner) {
    return pool.preparedQuery(CHECKPOINT).execute(Tuple.of(owner)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new Checkpoint(row.getLong("last_event_id"), Base64.getMimeDecoder().decode(row.getString("state")));
    });
  }

  private static List<EventFacts> facts(RowSet<Row> rows) {
    List<EventFacts> out = new ArrayList<>();
    rows.forEach(r -> out.add(FactsSql.read(r)));
    return out;
  }

  private static long millis(OffsetDateTime t) {
    return FactsSql.millis(t);
  }
}
