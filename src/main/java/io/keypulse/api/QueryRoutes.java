package io.keypulse.api;

import io.keypulse.detect.PartnerSettingsStore;
import io.keypulse.detect.Policy;
import io.keypulse.detect.PolicyJson;
import io.keypulse.store.EventFilter;
import io.keypulse.store.EventQueries;
import io.keypulse.store.KeyActivity;
import io.keypulse.store.KeyQueries;
import io.keypulse.store.KeyView;
import io.keypulse.store.Stats;
import io.keypulse.store.StatsQueries;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;

/** GET /api/events, /api/keys and /api/stats: always scoped to the caller (stats: or to everyone). */
final class QueryRoutes {
  private static final int EVENTS_DEFAULT = 50;
  private static final int EVENTS_MAX = 500;
  private static final int KEYS_DEFAULT = 500;
  private static final int KEYS_MAX = 1000;

  private final EventQueries events;
  private final KeyQueries keys;
  private final StatsQueries stats;
  private final PartnerSettingsStore settings;
  private final KeyActivity activity;
  private final Clock clock;
  private final int maxKeyIdLength;

  QueryRoutes(EventQueries events, KeyQueries keys, StatsQueries stats, PartnerSettingsStore settings,
              KeyActivity activity, Clock clock, int maxKeyIdLength) {
    this.events = events;
    this.activity = activity;
    this.clock = clock;
    this.keys = keys;
    this.stats = stats;
    this.settings = settings;
    this.maxKeyIdLength = maxKeyIdLength;
  }

  /** Rotation days and learning period of the partner's effective policy. */
  static Future<KeyQueries.Defaults> keyDefaults(PartnerSettingsStore settings, String partnerId) {
    return settings.overrides(partnerId).map(overrides -> {
      Policy p = PolicyJson.effective(settings.defaults(), overrides);
      return new KeyQueries.Defaults(p.rotationPolicyDays(), Duration.ofHours(p.learningHours()),
          p.newSourceMinHistory(), Duration.ofHours(p.newSourceLearningHours()));
    });
  }

  void events(RoutingContext ctx) {
    String eventType = Params.text(ctx, "event_type", 2 * EventTypes.MAX_LENGTH);
    if (eventType != null && !EventTypes.valid(eventType)) {
      throw HttpProblem.badRequest("event_type must be " + EventTypes.RULE);
    }
    EventFilter filter = new EventFilter(Caller.of(ctx).partnerId(), Params.text(ctx, "key_id", maxKeyIdLength),
        eventType, Params.oneOf(ctx, "severity", EventFields.SEVERITIES), Params.time(ctx, "since"),
        Params.time(ctx, "until"), Params.positiveLong(ctx, "before_id"), Params.limit(ctx, EVENTS_DEFAULT, EVENTS_MAX));
    events.find(filter).onSuccess(page -> {
      JsonArray list = new JsonArray();
      page.items().forEach(e -> list.add(EventJson.of(e)));
      ctx.json(new JsonObject().put("success", true).put("count", list.size()).put("events", list)
          .put("next_before_id", page.nextBeforeId()));
    }).onFailure(ctx::fail);
  }

  void keys(RoutingContext ctx) {
    Long after = Params.positiveLong(ctx, "after_id");
    int limit = Params.limit(ctx, KEYS_DEFAULT, KEYS_MAX);
    String partnerId = Caller.of(ctx).partnerId();
    keyDefaults(settings, partnerId).compose(d -> keys.list(partnerId, after == null ? 0 : after, limit, d))
        .onSuccess(page -> {
      JsonArray list = new JsonArray();
      page.forEach(k -> list.add(key(k)));
      ctx.json(new JsonObject().put("success", true).put("count", list.size()).put("keys", list)
          .put("next_after_id", page.size() == limit ? page.get(page.size() - 1).id() : null));
    }).onFailure(ctx::fail);
  }
  /** GET /api/keys/{key_id}/activity: signings per hour against the baseline, for the dashboard's chart. */
  void activity(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    String keyId = Params.path(ctx, "key_id", maxKeyIdLength);
    settings.overrides(partnerId).map(o -> PolicyJson.effective(settings.defaults(), o)).compose(policy ->
        keyDefaults(settings, partnerId).compose(d -> keys.find(partnerId, keyId, d)).compose(found -> {
          if (found.isEmpty()) {
            return Future.failedFuture(HttpProblem.notFound("no key " + keyId + " (keys appear with their first event)"));
          }
          return activity.of(partnerId, keyId, clock.instant()).map(a -> activity(found.get(), a, policy));
        })).onSuccess(ctx::json).onFailure(ctx::fail);
  }

  private static JsonObject activity(KeyView key, KeyActivity.Activity a, Policy policy) {
    JsonArray hours = new JsonArray();
    for (int i = 0; i < a.hours().length; i++) {
      hours.add(new JsonObject().put("hour", Times.iso(a.hours()[i])).put("signing", a.hourly()[i]));
    }
    double threshold = Math.max(a.baseline() * policy.signingSpikeMultiplier(), policy.signingSpikeMinCount());
    return new JsonObject().put("success", true).put("key_id", key.keyId()).put("baseline_state", key.baselineState())
        .put("hours", hours).put("baseline_per_hour", Math.round(a.baseline() * 100) / 100.0)
        .put("baseline_hours", a.baselineHours()).put("spike_multiplier", policy.signingSpikeMultiplier())
        .put("spike_threshold_per_hour", Math.round(threshold * 100) / 100.0);
  }

  void stats(RoutingContext ctx) {
    Caller caller = Caller.of(ctx);
    stats.of(caller == null ? StatsQueries.EVERYONE : caller.partnerId())
        .onSuccess(s -> ctx.json(stats(s)))
        .onFailure(ctx::fail);
  }

  static JsonObject key(KeyView k) {
    Instant rotationBase = k.lastRotated() != null ? k.lastRotated() : k.createdAt();
    return new JsonObject()
        .put("id", k.id())
        .put("key_id", k.keyId())
        .put("name", k.name())
        .put("key_type", k.keyType())
        .put("status", k.status())
        .put("event_count", k.eventCount())
        .put("created_at", Times.iso(k.createdAt()))
        .put("last_activity", Times.iso(k.lastActivity()))
        .put("last_rotated", Times.iso(k.lastRotated()))
        .put("rotation_policy_days", k.rotationPolicyDays())
        .put("rotation_due_at", Times.iso(rotationBase.plus(k.rotationPolicyDays(), ChronoUnit.DAYS)))
        .put("baseline_state", k.baselineState())
        .put("baselines", new JsonObject(new LinkedHashMap<>(k.baselines())))
        .put("business_hours", k.businessHours());
  }

  private static JsonObject stats(Stats s) {
    return new JsonObject()
        .put("total_keys", s.totalKeys())
        .put("total_events", s.totalEvents())
        .put("events_24h", s.events24h())
        .put("severity_breakdown", new JsonObject()
            .put("nominal", s.nominal()).put("warning", s.warning()).put("critical", s.critical()));
  }
}
