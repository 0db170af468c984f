package io.keypulse.detect;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.AlertRaised;
import io.keypulse.bus.DeliveriesDue;
import io.keypulse.db.PgFailures;
import io.keypulse.ops.LogThrottle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a shard's verdicts in batches, one transaction at a time: event scores (and derived
 * severities, with their counters), new alerts, repeat counts, state checkpoints. An event's score
 * and its alerts commit together, so "score is null" means "not detected yet": after a crash those
 * events are detected again, and alerts_once_per_event keeps their alerts single. Alerts are
 * published only once committed. While Postgres is down, or the node's query pool has no room, the
 * batch waits and is retried. The statements are in {@link VerdictSql}.
 */
final class VerdictWriter {
  /** The node's live publisher fans alerts out; publishing cluster-wide here would repeat them per node. */
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final Logger log = LoggerFactory.getLogger(VerdictWriter.class);
  private static final LogThrottle THROTTLE = new LogThrottle(log);
  private static final int MAX_BATCH = 2000;
  private static final int MAX_QUEUED = 100_000;
  private static final long RETRY_MILLIS = 1000;

  record Checkpoint(String owner, long lastEventId, byte[] state) {}

  /** requestIds: the requests whose event this verdict is about (null if none), for their webhooks' lines. */
  private record Queued(Verdict verdict, Promise<Void> committed, String requestIds) {}

  private record Batch(List<Queued> queued, List<Checkpoint> checkpoints) {
    List<Verdict> verdicts() {
      return queued.stream().map(Queued::verdict).toList();
    }
  }

  private final Vertx vertx;
  private final Pool pool;
  private final ArrayDeque<Queued> verdicts = new ArrayDeque<>();
  private final ArrayDeque<Checkpoint> checkpoints = new ArrayDeque<>();
  private boolean writing;
  private boolean retrying;
  private Promise<Void> drained;

  VerdictWriter(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /** Queues a verdict; the future completes when it is committed (fails if it was given up). */
  Future<Void> add(Verdict verdict, String requestIds) {
    if (verdicts.size() >= MAX_QUEUED) {
      // Unwritten verdicts leave their events unscored: the scheduler's rescue detects them again.
      verdicts.poll().committed().fail("verdict queue full");
      THROTTLE.warn("full", "verdict queue full; dropping the oldest (its event will be rescued)");
    }
    Promise<Void> committed = Promise.promise();
    verdicts.add(new Queued(verdict, committed, requestIds));
    write();
    return committed.future();
  }

  void checkpoint(Checkpoint checkpoint) {
    checkpoints.add(checkpoint);
    write();
  }

  /** Completes once everything queued so far is written (or given up on). */
  Future<Void> drain() {
    if (!writing && verdicts.isEmpty() && checkpoints.isEmpty()) {
      return Future.succeededFuture();
    }
    drained = drained != null ? drained : Promise.promise();
    return drained.future();
  }

  private void write() {
    if (writing || retrying || (verdicts.isEmpty() && checkpoints.isEmpty())) {
      if (!writing && !retrying && drained != null) {
        drained.complete();
        drained = null;
      }
      return;
    }
    writing = true;
    List<Queued> nextVerdicts = take(verdicts);
    // A checkpoint may only commit with (or after) the scores of the events it includes.
    List<Checkpoint> nextCheckpoints = verdicts.isEmpty() ? latestPerOwner(take(checkpoints)) : List.of();
    Batch batch = new Batch(nextVerdicts, nextCheckpoints);
    pool.withTransaction(conn -> transaction(conn, batch)).onComplete(result -> {
      writing = false;
      if (result.succeeded()) {
        result.result().alerts().forEach(alert -> vertx.eventBus().publish(Addresses.ALERTS_RAISED, alert, LOCAL));
        if (result.result().webhooks() > 0) {
          vertx.eventBus().publish(Addresses.DELIVERIES_DUE,
              new DeliveriesDue(result.result().webhooks(), requestsOf(batch)));
        }
        batch.queued().forEach(q -> q.committed().complete());
      } else if (PgFailures.unavailable(result.cause()) || PgFailures.busy(result.cause())) {
        // Postgres unreachable, or the node's query pool saturated (a burst of new keys loading):
        // both pass; the batch waits and is written then.
        THROTTLE.warn("retry", "could not write {} verdicts yet ({}); retrying in {} ms", batch.queued().size(),
            result.cause().toString(), RETRY_MILLIS);
        requeue(batch);
        retrying = true;
        vertx.setTimer(RETRY_MILLIS, id -> {
          retrying = false;
          write();
        });
        return;
      } else {
        THROTTLE.error("failed", "could not write {} verdicts; their events stay unscored for the rescue",
            batch.queued().size(), result.cause());
        batch.queued().forEach(q -> q.committed().fail(result.cause()));
      }
      write();
    });
  }

  private record Written(List<AlertRaised> alerts, int webhooks) {}

  private Future<Written> transaction(SqlConnection conn, Batch batch) {
    List<Future<?>> steps = new ArrayList<>();
    if (touchesSharedRows(batch.verdicts())) {
      // Counters and keys rows are the event store's too: take its lock, so that we never deadlock with
      // it. New alerts take it too: their once-per-event check (VerdictSql.ALERTS) needs writers in turn.
      steps.add(conn.query(VerdictSql.LOCK).execute());
    }
    steps.add(conn.preparedQuery(VerdictSql.SCORES).execute(VerdictSql.scores(batch.verdicts())));
    Future<RowSet<Row>> alerts = conn.preparedQuery(VerdictSql.ALERTS).execute(VerdictSql.alerts(batch.verdicts()));
    steps.add(alerts);
    List<Tuple> repeats = VerdictSql.repeats(batch.verdicts());
    if (!repeats.isEmpty()) {
      steps.add(conn.preparedQuery(VerdictSql.REPEAT).executeBatch(repeats));
    }
    List<Tuple> partnerRepeats = VerdictSql.partnerRepeats(batch.verdicts());
    if (!partnerRepeats.isEmpty()) {
      steps.add(conn.preparedQuery(VerdictSql.PARTNER_REPEAT).executeBatch(partnerRepeats));
    }
    Tuple rotations = VerdictSql.rotations(batch.verdicts());
    if (rotations != null) {
      steps.add(conn.preparedQuery(VerdictSql.ROTATION_ALERTED).execute(rotations));
    }
    Tuple muted = VerdictSql.muted(batch.verdicts());
    if (muted != null) {
      steps.add(conn.preparedQuery(VerdictSql.MUTED).execute(muted));
    }
    if (!batch.checkpoints().isEmpty()) {
      steps.add(conn.preparedQuery(VerdictSql.CHECKPOINTS).execute(VerdictSql.checkpoints(batch.checkpoints())));
    }
    // Escalations run after the batch's new alerts are in: an alert and its escalation may share a batch.
    return Future.all(steps).compose(done -> Escalations.write(conn, batch.verdicts())).map(escalated -> {
      List<AlertRaised> raised = new ArrayList<>(VerdictSql.raised(alerts.result()));
      raised.addAll(escalated);
      return new Written(raised, VerdictSql.webhooks(alerts.result()) + escalated.size());
    });
  }

  private static boolean touchesSharedRows(List<Verdict> batch) {
    return batch.stream().anyMatch(v -> (v.derivedSeverity() != null && !"nominal".equals(v.derivedSeverity()))
        || !v.alerts().isEmpty());
  }

  private void requeue(Batch batch) {
    for (int i = batch.queued().size() - 1; i >= 0; i--) {
      verdicts.addFirst(batch.queued().get(i));
    }
    for (int i = batch.checkpoints().size() - 1; i >= 0; i--) {
      checkpoints.addFirst(batch.checkpoints().get(i));
    }
  }

  /**
   * One checkpoint per owner, its newest: a slot checkpointed again while an earlier one waited (a
   * slow or retried write) would otherwise give one upsert two rows for the same owner, which
   * Postgres refuses, failing the whole batch with the verdicts in it.
   */
  static List<Checkpoint> latestPerOwner(List<Checkpoint> batch) {
    Map<String, Checkpoint> latest = new LinkedHashMap<>();
    for (Checkpoint c : batch) {
      latest.merge(c.owner(), c, (had, next) -> next.lastEventId() >= had.lastEventId() ? next : had);
    }
    return new ArrayList<>(latest.values());
  }

  /** Event id -> the requests that ingested it, for the verdicts that may have raised a webhook. */
  private static Map<Long, String> requestsOf(Batch batch) {
    Map<Long, String> requests = new HashMap<>();
    for (Queued q : batch.queued()) {
      Verdict v = q.verdict();
      if (q.requestIds() != null && v.eventId() != null && !(v.alerts().isEmpty() && v.escalations().isEmpty())) {
        requests.put(v.eventId(), q.requestIds());
      }
    }
    return requests;
  }

  private static <T> List<T> take(ArrayDeque<T> queue) {
    List<T> out = new ArrayList<>();
    while (!queue.isEmpty() && out.size() < MAX_BATCH) {
      out.add(queue.poll());
    }
    return out;
  }
}
