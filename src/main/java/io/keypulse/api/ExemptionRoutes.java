package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.PartnerSettingsChanged;
import io.keypulse.config.Config;
import io.keypulse.detect.DetectorCatalog;
import io.keypulse.detect.Exemption;
import io.keypulse.detect.ExemptionStore;
import io.keypulse.detect.IpRange;
import io.keypulse.detect.PartnerSettingsStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * Partner exceptions (/api/v1/exceptions: "exemptions" in code). Every change is announced so that
 * each node's shards reload the partner's settings, exemptions included.
 */
final class ExemptionRoutes {
  /** Every finding is matched against the partner's list in its shard: keep the list short. */
  static final int MAX_ACTIVE = 100;
  private static final List<String> FIELDS =
      List.of("rule", "key_id", "key_prefix", "source_ip_cidr", "actor", "expires_at", "reason");
  private static final Instant LAST_EXPIRY = Instant.parse("9999-12-31T23:59:59Z");

  private final PartnerSettingsStore settings;
  private final ExemptionStore store;
  private final Config.Ingest limits;
  private final Clock clock;
  private final Idempotency idempotency;

  ExemptionRoutes(PartnerSettingsStore settings, Config.Ingest limits, Clock clock, Idempotency idempotency) {
    this.settings = settings;
    this.store = settings.exemptions();
    this.limits = limits;
    this.clock = clock;
    this.idempotency = idempotency;
  }

  void create(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    Exemption draft = draft(JsonBodies.object(ctx), partnerId);
    knownRule(partnerId, draft.rule())
        .compose(ok -> idempotency.create(ctx, conn -> store.create(conn, draft, MAX_ACTIVE)
            .compose(created -> created.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(
                HttpProblem.badRequest("at most " + MAX_ACTIVE + " active exceptions per partner; delete one first"))))
            .map(created -> Answer.json(201, new JsonObject().put("success", true).put("exception", created.toJson())))))
        .onSuccess(answer -> {
          changed(ctx, partnerId);
          answer.send(ctx);
        }).onFailure(ctx::fail);
  }

  void list(RoutingContext ctx) {
    store.active(Caller.of(ctx).partnerId()).onSuccess(list -> {
      JsonArray out = new JsonArray();
      list.forEach(e -> out.add(e.toJson()));
      ctx.json(new JsonObject().put("success", true).put("count", out.size()).put("exceptions", out));
    }).onFailure(ctx::fail);
  }

  void get(RoutingContext ctx) {
    long id = PartnerRoutes.pathId(ctx, "id");
    store.get(Caller.of(ctx).partnerId(), id).onSuccess(found -> {
      if (found.isEmpty()) {
        ctx.fail(HttpProblem.notFound("no exception " + id));
      } else {
        ctx.json(new JsonObject().put("success", true).put("exception", found.get().toJson()));
      }
    }).onFailure(ctx::fail);
  }

  void delete(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    long id = PartnerRoutes.pathId(ctx, "id");
    store.deactivate(partnerId, id).onSuccess(found -> {
      if (!found) {
        ctx.fail(HttpProblem.notFound("no exception " + id));
        return;
      }
      changed(ctx, partnerId);
      ctx.json(new JsonObject().put("success", true).put("deactivated", id));
    }).onFailure(ctx::fail);
  }

  private static void changed(RoutingContext ctx, String partnerId) {
    ctx.vertx().eventBus().publish(Addresses.PARTNER_SETTINGS_CHANGED, new PartnerSettingsChanged(partnerId));
  }

  /** A detector's rule id, or the name of one of the partner's active thresholds. */
  private Future<Void> knownRule(String partnerId, String rule) {
    if (DetectorCatalog.isRule(rule)) {
      return Future.succeededFuture();
    }
    return settings.thresholds(partnerId).compose(thresholds -> thresholds.stream().anyMatch(t -> t.name().equals(rule))
        ? Future.succeededFuture()
        : Future.failedFuture(HttpProblem.badRequest("rule must be a detector (" + String.join(", ",
            DetectorCatalog.rules()) + ") or the name of one of your thresholds; " + rule + " is neither")));
  }

  private Exemption draft(JsonObject body, String partnerId) {
    BodyFields.known(body, FIELDS);
    String rule = BodyFields.text(body, "rule", 100, true);
    String keyId = BodyFields.text(body, "key_id", limits.maxKeyIdLength(), false);
    String keyPrefix = BodyFields.text(body, "key_prefix", limits.maxKeyIdLength(), false);
    if (keyId != null && keyPrefix != null) {
      throw HttpProblem.badRequest("key_id and key_prefix exclude each other: send one");
    }
    IpRange range = range(body.getValue("source_ip_cidr"));
    String actor = BodyFields.text(body, "actor", limits.maxActorLength(), false);
    Instant expiresAt = expiry(body.getValue("expires_at"));
    String reason = BodyFields.text(body, "reason", 500, true);
    return new Exemption(0, partnerId, rule, keyId, keyPrefix, range, actor, expiresAt, reason, 0, null, null);
  }

  private static IpRange range(Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.length() > 64) {
      throw HttpProblem.badRequest("source_ip_cidr must be an IPv4 or IPv6 address or range, e.g. 10.0.0.0/8");
    }
    try {
      return IpRange.parse(s);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest(e.getMessage());
    }
  }

  private Instant expiry(Object value) {
    if (value == null) {
      return null;
    }
    Instant at = value instanceof String s ? Times.parse(s) : null;
    if (at == null) {
      throw HttpProblem.badRequest("expires_at must be an ISO-8601 date-time, e.g. 2026-04-05T12:34:00Z");
    }
    if (!at.isAfter(clock.instant()) || at.isAfter(LAST_EXPIRY)) {
      throw HttpProblem.badRequest("expires_at must be in the future (and before the year 10000)");
    }
    return at;
  }
}
