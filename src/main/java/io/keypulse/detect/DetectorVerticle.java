package io.keypulse.detect;

import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.DetectEvents;
import io.keypulse.bus.Detected;
import io.keypulse.bus.EventFacts;
import io.keypulse.bus.KeyCommand;
import io.keypulse.bus.ProvisionCheck;
import io.keypulse.bus.ProvisionVerdict;
import io.keypulse.db.Pools;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A detector shard: owns the behavioural state of the keys (and partners) whose Hazelcast
 * partitions this node owns and that map to this shard. Events of a key are detected one at a
 * time, in arrival order; verdicts and checkpoints go to Postgres in batches. When a partition
 * moves away, its keys are checkpointed and dropped; the new owner rebuilds them from Postgres.
 */
public final class DetectorVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DetectorVerticle.class);

  private final int shard;
  private final DetectSetup setup;
  private final DetectRouter router;
  private final KeyDetector detector = new KeyDetector();
  private final Map<String, KeySlot> keys = new HashMap<>();
  private final Map<String, PartnerSlot> partners = new HashMap<>();
  private String address;
  private StateLoader loader;
  private VerdictWriter writer;
  private PartnerSettingsStore settingsStore;
  private UUID migrationListener;

  public DetectorVerticle(int shard, DetectSetup setup, DetectRouter router) {
    this.shard = shard;
    this.setup = setup;
    this.router = router;
  }

  @Override
  public Future<?> start() {
    Pool pool = Pools.query(vertx, setup.config().pg(), setup.pg());
    loader = new StateLoader(pool);
    writer = new VerdictWriter(vertx, pool);
    settingsStore = new PartnerSettingsStore(pool, Policy.defaults(setup.config().detect()));
    address = Addresses.detect(setup.hazelcast().getCluster().getLocalMember().getUuid().toString(), shard);
    vertx.setPeriodic(setup.config().detect().checkpointSeconds() * 1000L, id -> checkpointRound(false));
    migrationListener = setup.hazelcast().getPartitionService().addMigrationListener(new Handover(context));
    return vertx.eventBus().consumer(address, this::onMessage).completion();
  }

  /** Graceful handover: every key's latest state is checkpointed before the node leaves. */
  @Override
  public Future<?> stop() {
    setup.hazelcast().getPartitionService().removeMigrationListener(migrationListener);
    return checkpointRound(true).compose(v -> writer.drain());
  }

  private void onMessage(Message<Object> msg) {
    Object body = msg.body();
    Future<?> answer;
    if (body instanceof DetectEvents d) {
      answer = detectAll(d).map(Detected::new);
    } else if (body instanceof ProvisionCheck c) {
      answer = provision(c);
    } else if (body instanceof KeyCommand k) {
      answer = command(k);
    } else {
      answer = Future.failedFuture("unexpected message " + body);
    }
    answer.onSuccess(msg::reply).onFailure(e -> {
      log.warn("shard {} could not answer {}: {}", shard, body.getClass().getSimpleName(), e.toString());
      msg.fail(503, "detector unavailable");
    });
  }

  /** Answers once the verdicts are committed: a caller told "2 alerts" can read them. */
  private Future<List<Integer>> detectAll(DetectEvents batch) {
    List<Future<Detection>> results = new ArrayList<>();
    List<EventFacts> elsewhere = new ArrayList<>();
    for (EventFacts e : batch.events()) {
      if (!batch.forwarded() && !owns(DetectRouter.keyRoute(e.partnerId(), e.keyId()))) {
        elsewhere.add(e);
        results.add(null);
        continue;
      }
      KeySlot slot = keySlot(e.partnerId(), e.keyId());
      results.add(slot.enqueue(() -> detectArrived(slot, e, batch.rescued()), now()));
    }
    Future<List<Integer>> forwarded = elsewhere.isEmpty() ? Future.succeededFuture(List.of())
        : router.send(elsewhere, true, batch.rescued());
    List<Future<Detection>> mine = results.stream().filter(r -> r != null).toList();
    return forwarded.compose(moved -> Future.join(new ArrayList<>(mine))
        .transform(detected -> Future.join(mine.stream().filter(Future::succeeded).map(r -> r.result().committed())
            .toList()))
        .transform(committed -> {
          List<Integer> counts = new ArrayList<>();
          int next = 0;
          for (Future<Detection> r : results) {
            counts.add(r == null ? moved.get(next++) : r.succeeded() ? r.result().newAlerts() : 0);
          }
          return Future.succeededFuture(counts);
        }));
  }

  /** An event announced by a message: maybe already detected during the key's load, or seen before. */
  private Future<Detection> detectArrived(KeySlot slot, EventFacts e, boolean rescued) {
    Detection replayed = slot.replayed.get(e.id());
    if (replayed != null) {
      return Future.succeededFuture(replayed);
    }
    if (slot.seen(e.id())) {
      return Future.succeededFuture(Detection.NONE);
    }
    if (slot.includes(e.id())) {
      // Counted by a checkpoint. Unless it was never scored (rescued), there is nothing left to do;
      // if it was not, judge it without counting it again.
      return rescued ? detect(slot, e, true) : Future.succeededFuture(Detection.NONE);
    }
    return detect(slot, e, false);
  }

  /** During a load: scored events only rebuild the state; unscored ones are detected now. */
  private java.util.function.Function<EventFacts, Future<Detection>> duringLoad(KeySlot slot) {
    return e -> {
      if (e.scored()) {
        return settings(e.partnerId()).map(s -> {
          slot.state.apply(e, s.thresholds());
          slot.remember(e.id());
          return Detection.NONE;
        });
      }
      return detect(slot, e, false);
    };
  }

  private Future<Detection> detect(KeySlot slot, EventFacts e, boolean alreadyApplied) {
    return settings(e.partnerId()).compose(s -> {
      long now = now();
      KeyDetector.Outcome outcome = detector.detect(e, slot.state, s.policy(), s.thresholds(), now, alreadyApplied);
      slot.remember(e.id());
      slot.dirty = true;
      setup.stats().detected(e.createdAt(), now);
      Future<ProvisionVerdict> provisioning = "create".equals(e.canonicalType())
          ? router.provisioning(new ProvisionCheck(e.partnerId(), e.id(), e.occurredAt()))
              .otherwise(ProvisionVerdict.NONE)
          : Future.succeededFuture(ProvisionVerdict.NONE);
      return provisioning.map(p -> record(e, outcome, p));
    });
  }

  private Detection record(EventFacts e, KeyDetector.Outcome outcome, ProvisionVerdict provisioning) {
    List<Finding> alerts = new ArrayList<>(outcome.alerts());
    List<Finding> repeats = new ArrayList<>(outcome.repeats());
    double score = outcome.score();
    if (!"none".equals(provisioning.outcome())) {
      Finding f = Finding.fromJson(provisioning.finding());
      (provisioning.outcome().equals("alert") ? alerts : repeats).add(f);
      score = Math.max(score, f.score());
    }
    Future<Void> committed = writer.add(new Verdict(e.id(), e.partnerId(), e.keyId(), score,
        e.severityDerived() ? Verdict.severityOf(score) : null, alerts, repeats, Instant.ofEpochMilli(e.occurredAt())));
    return new Detection(alerts.size(), committed);
  }

  private Future<ProvisionVerdict> provision(ProvisionCheck check) {
    PartnerSlot slot = partners.computeIfAbsent(check.partnerId(),
        p -> new PartnerSlot(p, router.partitionOf(DetectRouter.partnerRoute(p)), loader));
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
    KeySlot slot = keySlot(c.partnerId(), c.keyId());
    return slot.enqueue(() -> switch (c.type()) {
      case RELOAD_SETTINGS -> loader.settings(slot.state, c.partnerId(), c.keyId()).map(v -> (Object) "ok");
      case CHECK_ROTATION -> settings(c.partnerId()).map(s -> {
        long now = now();
        int days = slot.state.rotationPolicyDays != null ? slot.state.rotationPolicyDays : s.policy().rotationPolicyDays();
        Finding f = RotationOverdue.due(slot.state, days, now, now);
        if (f != null) {
          slot.state.rotationAlertedAt = now;
          slot.dirty = true;
          writer.add(new Verdict(null, c.partnerId(), c.keyId(), 0, null, List.of(f), List.of(), Instant.ofEpochMilli(now)));
        }
        return (Object) (f != null ? "alerted" : "ok");
      });
    }, now());
  }

  private KeySlot keySlot(String partnerId, String keyId) {
    String route = DetectRouter.keyRoute(partnerId, keyId);
    return keys.computeIfAbsent(route, r -> new KeySlot(partnerId, keyId, router.partitionOf(r), loader,
        this::duringLoad, () -> setup.stats().keyLoaded()));
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

  /**
   * Checkpoints dirty idle keys (all of them when {@code everything}, once their queued work ran),
   * and drops keys idle for longer than detect.idle_evict_minutes.
   */
  private Future<Void> checkpointRound(boolean everything) {
    long now = now();
    long idleLimit = setup.config().detect().idleEvictMinutes() * 60_000L;
    long bytes = 0;
    List<Future<?>> waits = new ArrayList<>();
    for (KeySlot slot : new ArrayList<>(keys.values())) {
      bytes += slot.state == null ? 0 : slot.state.bytes();
      if (everything) {
        waits.add(slot.idle().andThen(done -> checkpoint(slot)));
      } else if (slot.pending == 0 && slot.loaded()) {
        checkpoint(slot);
        if (now - slot.touched > idleLimit) {
          drop(slot);
        }
      }
    }
    for (PartnerSlot slot : new ArrayList<>(partners.values())) {
      if (everything) {
        waits.add(slot.idle().andThen(done -> checkpoint(slot)));
      } else if (slot.pending == 0 && slot.loaded()) {
        checkpoint(slot);
      }
    }
    setup.stats().shardBytes(shard, bytes);
    return Future.join(waits).mapEmpty();
  }

  private void checkpoint(Slot slot) {
    if (!slot.dirty || !slot.loaded()) {
      return;
    }
    slot.dirty = false;
    if (slot instanceof KeySlot k) {
      k.replayed.clear();
      writer.checkpoint(new VerdictWriter.Checkpoint(k.owner, k.state.lastEventId, KeyStateCodec.write(k.state)));
    } else if (slot instanceof PartnerSlot p) {
      writer.checkpoint(new VerdictWriter.Checkpoint(p.owner, p.state.lastEventId, p.state.toBytes()));
    }
  }

  private void drop(KeySlot slot) {
    keys.remove(slot.owner);
    if (slot.loaded()) {
      setup.stats().keyDropped();
    }
  }

  /** This node lost a partition: hand its keys over (checkpoint, then forget them). */
  private void release(int partition) {
    for (KeySlot slot : new ArrayList<>(keys.values())) {
      if (slot.partition == partition) {
        slot.idle().onComplete(done -> {
          checkpoint(slot);
          drop(slot);
        });
      }
    }
    partners.values().removeIf(slot -> {
      if (slot.partition == partition) {
        checkpoint(slot);
        return true;
      }
      return false;
    });
  }

  private final class Handover implements MigrationListener {
    private final Context shardContext;

    Handover(Context shardContext) {
      this.shardContext = shardContext;
    }

    @Override
    public void migrationStarted(MigrationState state) {}

    @Override
    public void migrationFinished(MigrationState state) {}

    @Override
    public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
      if (event.getReplicaIndex() == 0 && event.getSource() != null && event.getSource().localMember()
          && event.getPartitionId() % setup.config().detect().shardsPerNode() == shard) {
        shardContext.runOnContext(v -> release(event.getPartitionId()));
      }
    }

    @Override
    public void replicaMigrationFailed(ReplicaMigrationEvent event) {}
  }
}
