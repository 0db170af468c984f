package io.keypulse.detect;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.DetectEvents;
import io.keypulse.bus.Detected;
import io.keypulse.bus.EventFacts;
import io.keypulse.bus.KeyCommand;
import io.keypulse.bus.ProvisionCheck;
import io.keypulse.bus.ProvisionVerdict;
import io.keypulse.bus.RequestIds;
import io.keypulse.db.Pools;
import io.keypulse.ops.Staggered;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A detector shard: owns the behavioural state of the keys (and partners) whose Hazelcast
 * partitions this node owns and that map to this shard. Each key is detected in commit order,
 * exactly once: an event whose predecessor the shard has not seen makes it catch up from the event
 * log first, and an event at or below the key's watermark is not counted again. Verdicts and
 * checkpoints go to Postgres in batches; a checkpoint's event id is the key's detection watermark.
 */
public final class DetectorVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DetectorVerticle.class);
  /** Scores below this are stored as 0 (null): most events, which need no write at all. */
  static final double SCORE_FLOOR = 0.1;

  private final int shard;
  private final DetectSetup setup;
  private final DetectRouter router;
  private final KeyDetector detector = new KeyDetector();
  private String address;
  private StateLoader loader;
  private VerdictWriter writer;
  private PartnerSettingsStore settingsStore;
  private ShardSlots slots;
  private Partitions partitions;
  private UUID migrationListener;

  public DetectorVerticle(int shard, DetectSetup setup, DetectRouter router) {
    this.shard = shard;
    this.setup = setup;
    this.router = router;
  }

  @Override
  public Future<?> start() {
    Pool pool = Pools.query(vertx, setup.config().pg(), setup.pg());
    loader = new StateLoader(pool, setup.config().detect().stateReadsPerShard());
    writer = new VerdictWriter(vertx, pool);
    settingsStore = new PartnerSettingsStore(pool, Policy.defaults(setup.config().detect()));
    address = Addresses.detect(setup.hazelcast().getCluster().getLocalMember().getUuid().toString(), shard);
    slots = new ShardSlots(shard, setup, router, loader, writer);
    partitions = new Partitions(shard, setup.config().detect().shardsPerNode(), context, slots::release);
    migrationListener = setup.hazelcast().getPartitionService().addMigrationListener(partitions);
    Staggered.every(vertx, setup.config().detect().checkpointSeconds() * 1000L, id -> slots.checkpointRound(false, now()));
    return vertx.eventBus().consumer(address, this::onMessage).completion();
  }

  /** Graceful handover: every key's latest state is checkpointed before the node leaves. */
  @Override
  public Future<?> stop() {
    setup.hazelcast().getPartitionService().removeMigrationListener(migrationListener);
    return slots.checkpointRound(true, now()).compose(v -> writer.drain());
  }

  /** The MDC carries the requests the message serves while it is handled here and when its answer is logged. */
  private void onMessage(Message<Object> msg) {
    String requestIds = RequestIds.of(msg.headers());
    RequestIds.within(requestIds, () -> handle(msg, requestIds));
  }

  private void handle(Message<Object> msg, String requestIds) {
    Object body = msg.body();
    Future<?> answer;
    if (body instanceof DetectEvents d) {
      answer = detectAll(d, requestIds);
    } else if (body instanceof ProvisionCheck c) {
      answer = provision(c);
    } else if (body instanceof KeyCommand k) {
      answer = command(k);
    } else {
      answer = Future.failedFuture("unexpected message " + body);
    }
    answer.onSuccess(msg::reply).onComplete(done -> {
      RequestIds.within(requestIds, () -> {
        if (done.failed()) {
          log.warn("shard {} could not answer {}: {}", shard, body.getClass().getSimpleName(), done.cause().toString());
        } else if (body instanceof DetectEvents d && log.isDebugEnabled()) {
          log.debug("shard {} detected {} events: {} new alerts", shard, d.events().size(),
              ((Detected) done.result()).newAlerts().stream().mapToInt(Integer::intValue).sum());
        }
      });
    }).onFailure(e -> msg.fail(503, "detector unavailable"));
  }

  /** Answers once the verdicts are committed: a caller told "2 alerts" can read them. */
  private Future<Detected> detectAll(DetectEvents batch, String requestIds) {
    Map<String, List<EventFacts>> byKey = new LinkedHashMap<>();
    List<EventFacts> elsewhere = new ArrayList<>();
    for (EventFacts e : batch.events()) {
      String route = DetectRouter.keyRoute(e.partnerId(), e.keyId());
      if (!batch.forwarded() && !byKey.containsKey(route) && !owns(route)) {
        elsewhere.add(e);
      } else {
        byKey.computeIfAbsent(route, r -> new ArrayList<>()).add(e);
      }
    }
    Map<Long, Future<Detection>> results = new HashMap<>();
    byKey.forEach((route, events) -> {
      KeySlot slot = slots.key(events.get(0).partnerId(), events.get(0).keyId());
      Future<List<Detection>> done = slot.enqueue(() -> inOrder(slot, events, 0, new ArrayList<>(), requestIds), now());
      for (int i = 0; i < events.size(); i++) {
        int at = i;
        results.put(events.get(i).id(), done.map(list -> list.get(at)));
      }
    });
    Future<Detected> moved = elsewhere.isEmpty() ? Future.succeededFuture(new Detected(List.of(), List.of()))
        : router.send(elsewhere, Collections.nCopies(elsewhere.size(), requestIds), true);
    return moved.compose(there -> Future.join(new ArrayList<>(results.values()))
        .transform(detected -> Future.join(results.values().stream().filter(Future::succeeded)
            .map(r -> r.result().committed()).toList()))
        .transform(committed -> Future.succeededFuture(answer(batch.events(), results, elsewhere, there))));
  }

  private static Detected answer(List<EventFacts> events, Map<Long, Future<Detection>> results,
                                 List<EventFacts> elsewhere, Detected there) {
    List<Integer> counts = new ArrayList<>();
    List<Double> scores = new ArrayList<>();
    for (EventFacts e : events) {
      int moved = elsewhere.indexOf(e);
      Future<Detection> mine = results.get(e.id());
      Detection d = mine != null && mine.succeeded() ? mine.result() : Detection.NONE;
      counts.add(moved >= 0 ? there.newAlerts().get(moved) : d.newAlerts());
      scores.add(moved >= 0 ? there.scores().get(moved) : d.score());
    }
    return new Detected(counts, scores);
  }

  /** One key's events of a message, one after the other. */
  private Future<List<Detection>> inOrder(KeySlot slot, List<EventFacts> events, int next, List<Detection> done,
                                          String requestIds) {
    if (next == events.size()) {
      return Future.succeededFuture(done);
    }
    return arrived(slot, events.get(next), requestIds).compose(d -> {
      done.add(d);
      return inOrder(slot, events, next + 1, done, requestIds);
    });
  }

  /**
   * An event announced by a message: detected after any of the key's events the shard missed.
   * requestIds: the requests the message serves, for the lines of the webhooks its alerts cause.
   */
  private Future<Detection> arrived(KeySlot slot, EventFacts e, String requestIds) {
    if (e.id() <= slot.watermark()) {
      return Future.succeededFuture(slot.recent.getOrDefault(e.id(), Detection.NONE));
    }
    if (!slot.anchored || e.previousId() > slot.watermark()) {
      return catchUp(slot, e.id(), requestIds).map(v -> slot.recent.getOrDefault(e.id(), Detection.NONE));
    }
    return detect(slot, e, requestIds);
  }

  /**
   * Detects, from the event log, every event of the key after its watermark up to {@code upTo}
   * (the announced event, which requestIds ingested; the others' requests are not known here).
   */
  private Future<Void> catchUp(KeySlot slot, long upTo, String requestIds) {
    return loader.events(slot.partnerId, slot.keyId, slot.anchored, slot.watermark(), upTo).compose(missing -> {
      slot.anchored = true;
      setup.stats().replayed(missing.size());
      Future<Void> chain = Future.succeededFuture();
      for (EventFacts e : missing) {
        chain = chain.compose(v -> e.id() <= slot.watermark() ? Future.succeededFuture()
            : detect(slot, e, e.id() == upTo ? requestIds : null).mapEmpty());
      }
      boolean more = missing.size() == StateLoader.page();
      return more ? chain.compose(v -> catchUp(slot, upTo, requestIds)) : chain;
    });
  }

  private Future<Detection> detect(KeySlot slot, EventFacts e, String requestIds) {
    return settings(e.partnerId()).compose(s -> {
      long now = now();
      Mutes mutes = s.mutes();
      KeyDetector.Outcome outcome = detector.detect(e, slot.state, s.policy(), s.thresholds(), mutes, now, false);
      slot.dirty = true;
      setup.stats().detected(e.createdAt(), now);
      Future<ProvisionVerdict> provisioning = "create".equals(e.canonicalType())
          ? router.provisioning(new ProvisionCheck(e.partnerId(), e.id(), e.occurredAt()))
              .otherwise(ProvisionVerdict.NONE)
          : Future.succeededFuture(ProvisionVerdict.NONE);
      return provisioning.map(p -> {
        Detection d = record(e, outcome, p, mutes, requestIds);
        if (d != Detection.NONE) {
          slot.recent.put(e.id(), d);
        }
        return d;
      });
    });
  }

  private Detection record(EventFacts e, KeyDetector.Outcome outcome, ProvisionVerdict provisioning, Mutes mutes,
                           String requestIds) {
    Verdict v = Verdict.of(e, outcome, provisioning, mutes, SCORE_FLOOR);
    return v == null ? Detection.NONE : new Detection(v.alerts().size(), v.score(), writer.add(v, requestIds));
  }

  private Future<ProvisionVerdict> provision(ProvisionCheck check) {
    PartnerSlot slot = slots.partner(check.partnerId());
    return slot.enqueue(() -> settings(check.partnerId()).map(s -> {
      boolean counted = check.eventId() <= slot.loadedUpTo || slot.seen(check.eventId());
      if (!counted) {
        slot.state.apply(check.eventId(), check.occurredAt());
        slot.remember(check.eventId());
        slot.dirty = true;
      }
      Finding f = ProvisioningSpike.check(slot.state, check.occurredAt(), s.policy());
      if (f == null) {
        return ProvisionVerdict.NONE;
      }
      long last = slot.state.lastAlertAt;
      boolean suppressed = last != KeyState.NEVER && Math.abs(check.occurredAt() - last) < s.policy().suppressionMillis();
      if (suppressed) {
        return counted ? ProvisionVerdict.NONE : new ProvisionVerdict("repeat", f.toJson());
      }
      slot.state.lastAlertAt = check.occurredAt();
      return new ProvisionVerdict("alert", f.toJson());
    }), now());
  }

  private Future<Object> command(KeyCommand c) {
    KeySlot slot = slots.key(c.partnerId(), c.keyId());
    return slot.enqueue(() -> switch (c.type()) {
      case RELOAD_SETTINGS -> loader.settings(slot.state, c.partnerId(), c.keyId()).map(v -> (Object) "ok");
      case CATCH_UP -> {
        // Whatever it finds, the checkpoint that follows records the watermark the scheduler asked about.
        slot.dirty = true;
        yield catchUp(slot, Long.MAX_VALUE, null).map(v -> (Object) "ok");
      }
      case CHECK_ROTATION -> settings(c.partnerId()).map(s -> rotation(slot, s));
    }, now());
  }

  private Object rotation(KeySlot slot, PartnerSettings s) {
    long now = now();
    int days = slot.state.rotationPolicyDays != null ? slot.state.rotationPolicyDays : s.policy().rotationPolicyDays();
    Finding f = RotationOverdue.due(slot.state, days, now, now);
    if (f == null) {
      return "ok";
    }
    slot.state.rotationAlertedAt = now;
    slot.dirty = true;
    writer.add(Verdict.alertOnly(slot.partnerId, slot.keyId, f, Instant.ofEpochMilli(now)), null);
    return "alerted";
  }

  private Future<PartnerSettings> settings(String partnerId) {
    return setup.settings().get(partnerId, settingsStore);
  }

  private boolean owns(String route) {
    return router.addressOf(route).equals(address);
  }

  private long now() {
    return setup.clock().millis();
  }
}
