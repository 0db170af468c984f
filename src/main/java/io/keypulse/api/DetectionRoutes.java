package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.KeyCommand;
import io.keypulse.bus.PartnerSettingsChanged;
import io.keypulse.detect.AlertQueries;
import io.keypulse.detect.BusinessHours;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.PartnerSettingsStore;
import io.keypulse.detect.PolicyJson;
import io.keypulse.detect.Threshold;
import io.keypulse.store.KeyQueries;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Detection settings and results: policies, thresholds, per-key overrides, the alert history. */
final class DetectionRoutes {
  private static final Set<String> WINDOWS = Set.of("1h", "24h", "7d");
  private static final Set<String> ALERT_SEVERITIES = Set.of("warning", "critical");
  private static final Set<String> ALERT_STATUSES = Set.of("open", "acked");
  private static final Set<String> RESOLUTIONS = Set.of("true_positive", "false_positive", "benign");

  private final PartnerSettingsStore settings;
  private final AlertQueries alerts;
  private final KeyQueries keys;
  private final DetectRouter detectors;
  private final int maxKeyIdLength;
  private final Idempotency idempotency;

  DetectionRoutes(PartnerSettingsStore settings, AlertQueries alerts, KeyQueries keys, DetectRouter detectors,
                  int maxKeyIdLength, Idempotency idempotency) {
    this.settings = settings;
    this.alerts = alerts;
    this.keys = keys;
    this.detectors = detectors;
    this.maxKeyIdLength = maxKeyIdLength;
    this.idempotency = idempotency;
  }

  void getPolicy(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    settings.overrides(partnerId).onSuccess(overrides -> ctx.json(policy(partnerId, overrides))).onFailure(ctx::fail);
  }

  /** Fields sent replace the current ones; null resets a field to the default. */
  void putPolicy(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    JsonObject changes;
    try {
      changes = PolicyJson.validate(JsonBodies.object(ctx));
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest(e.getMessage());
    }
    settings.overrides(partnerId).compose(current -> {
      JsonObject merged = current.copy();
      changes.forEach(e -> {
        if (e.getValue() == null) {
          merged.remove(e.getKey());
        } else {
          merged.put(e.getKey(), e.getValue());
        }
      });
      return settings.saveOverrides(partnerId, merged).map(merged);
    }).onSuccess(merged -> {
      changed(ctx, partnerId);
      ctx.json(policy(partnerId, merged));
    }).onFailure(ctx::fail);
  }

  void createThreshold(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    Threshold draft = threshold(JsonBodies.object(ctx), partnerId);
    settings.thresholds(partnerId).compose(existing -> existing.stream().anyMatch(t -> t.name().equals(draft.name()))
            ? Future.failedFuture(HttpProblem.badRequest("a threshold named " + draft.name() + " exists; delete it first"))
            : idempotency.create(ctx, conn -> settings.create(conn, draft).map(created ->
                Answer.json(201, new JsonObject().put("success", true).put("threshold", created.toJson())))))
        .onSuccess(answer -> {
          changed(ctx, partnerId);
          answer.send(ctx);
        }).onFailure(ctx::fail);
  }

  void listThresholds(RoutingContext ctx) {
    settings.thresholds(Caller.of(ctx).partnerId()).onSuccess(list -> {
      JsonArray out = new JsonArray();
      list.forEach(t -> out.add(t.toJson()));
      ctx.json(new JsonObject().put("success", true).put("count", out.size()).put("thresholds", out));
    }).onFailure(ctx::fail);
  }

  void deleteThreshold(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    long id = PartnerRoutes.pathId(ctx, "id");
    settings.deactivate(partnerId, id).onSuccess(found -> {
      if (!found) {
        ctx.fail(HttpProblem.notFound("no threshold " + id));
        return;
      }
      changed(ctx, partnerId);
      ctx.json(new JsonObject().put("success", true).put("deactivated", id));
    }).onFailure(ctx::fail);
  }

  void listAlerts(RoutingContext ctx) {
    var filter = new AlertQueries.Filter(Caller.of(ctx).partnerId(), Params.text(ctx, "key_id", maxKeyIdLength),
        Params.text(ctx, "rule", 100), Params.oneOf(ctx, "severity", ALERT_SEVERITIES),
        Params.oneOf(ctx, "status", ALERT_STATUSES), Params.positiveLong(ctx, "before_id"), Params.limit(ctx, 50, 500));
    alerts.find(filter).onSuccess(page -> ctx.json(new JsonObject().put("success", true)
            .put("count", page.items().size()).put("alerts", new JsonArray(page.items()))
            .put("next_before_id", page.nextBeforeId())))
        .onFailure(ctx::fail);
  }

  /** The body is optional: none (or {}) acks; {resolution, note?} also gives the partner's verdict. */
  void ackAlert(RoutingContext ctx) {
    long id = PartnerRoutes.pathId(ctx, "id");
    JsonObject body = JsonBodies.optionalObject(ctx);
    BodyFields.known(body, List.of("resolution", "note"));
    String resolution = resolution(body);
    String note = BodyFields.note(body, "note", 1000);
    if (note != null && resolution == null) {
      throw HttpProblem.badRequest("a note comes with a resolution: true_positive, false_positive or benign");
    }
    alerts.ack(Caller.of(ctx).partnerId(), id, resolution, note).onSuccess(found -> {
      if (found.isEmpty()) {
        ctx.fail(HttpProblem.notFound("no alert " + id));
      } else {
        ctx.json(new JsonObject().put("success", true).put("alert", found.get()));
      }
    }).onFailure(ctx::fail);
  }

  /** PATCH /api/keys/{key_id}: name, key_type, rotation_policy_days, business_hours (null clears). */
  void patchKey(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    String keyId = Params.path(ctx, "key_id", maxKeyIdLength);
    Map<String, Object> columns = keySettings(JsonBodies.object(ctx));
    QueryRoutes.keyDefaults(settings, partnerId).compose(d -> keys.update(partnerId, keyId, columns, d))
        .onSuccess(found -> {
      if (found.isEmpty()) {
        ctx.fail(HttpProblem.notFound("no key " + keyId + " (keys appear with their first event)"));
        return;
      }
      if (columns.containsKey("rotation_policy_days") || columns.containsKey("business_hours")) {
        detectors.command(new KeyCommand(partnerId, keyId, KeyCommand.Type.RELOAD_SETTINGS));
      }
      ctx.json(new JsonObject().put("success", true).put("key", QueryRoutes.key(found.get())));
    }).onFailure(ctx::fail);
  }

  private JsonObject policy(String partnerId, JsonObject overrides) {
    return new JsonObject().put("success", true).put("partner_id", partnerId)
        .put("policy", PolicyJson.render(PolicyJson.effective(settings.defaults(), overrides)))
        .put("overrides", overrides);
  }

  private static void changed(RoutingContext ctx, String partnerId) {
    ctx.vertx().eventBus().publish(Addresses.PARTNER_SETTINGS_CHANGED, new PartnerSettingsChanged(partnerId));
  }

  private Threshold threshold(JsonObject body, String partnerId) {
    Object name = body.getValue("name");
    if (!(name instanceof String n) || n.isBlank() || n.length() > 100 || !Text.printable(n)) {
      throw HttpProblem.badRequest("name is required: 1 to 100 characters, " + Text.PRINTABLE);
    }
    Object type = body.getValue("event_type");
    if (!(type instanceof String t) || !EventTypes.valid(t)) {
      throw HttpProblem.badRequest("event_type is required: " + EventTypes.RULE);
    }
    Object key = body.getValue("key_id");
    if (key != null && (!(key instanceof String k) || k.isBlank() || k.length() > maxKeyIdLength
        || !Text.printable(k))) {
      throw HttpProblem.badRequest("key_id must be a string of 1 to " + maxKeyIdLength + " characters, "
          + Text.PRINTABLE);
    }
    Object threshold = body.getValue("threshold");
    if (!(threshold instanceof Integer th) || th < 1) {
      throw HttpProblem.badRequest("threshold must be a positive integer");
    }
    Object window = body.getValue("window");
    if (!(window instanceof String w) || !WINDOWS.contains(w)) {
      throw HttpProblem.badRequest("window must be one of 1h, 24h, 7d");
    }
    Object pct = body.getValue("warn_at_pct", 80);
    if (!(pct instanceof Integer p) || p < 1 || p > 100) {
      throw HttpProblem.badRequest("warn_at_pct must be an integer from 1 to 100");
    }
    return new Threshold(0, partnerId, n.trim(), t, (String) key, th, w, p, null);
  }

  private static String resolution(JsonObject body) {
    Object value = body.getValue("resolution");
    if (value != null && !(value instanceof String r && RESOLUTIONS.contains(r))) {
      throw HttpProblem.badRequest("resolution must be one of true_positive, false_positive, benign");
    }
    return (String) value;
  }

  private static Map<String, Object> keySettings(JsonObject body) {
    Map<String, Object> columns = new LinkedHashMap<>();
    for (String field : body.fieldNames()) {
      Object value = body.getValue(field);
      switch (field) {
        case "name", "key_type" -> {
          if (value != null && (!(value instanceof String s) || s.length() > 200 || !Text.printable(s))) {
            throw HttpProblem.badRequest(field + " must be a string of at most 200 characters, " + Text.PRINTABLE
                + ", or null");
          }
          columns.put(field, value);
        }
        case "rotation_policy_days" -> {
          if (value != null && (!(value instanceof Integer d) || d < 1 || d > 3650)) {
            throw HttpProblem.badRequest("rotation_policy_days must be an integer from 1 to 3650, or null");
          }
          columns.put(field, value);
        }
        case "business_hours" -> {
          try {
            columns.put(field, value == null ? null : BusinessHours.parse(value).toJson());
          } catch (IllegalArgumentException e) {
            throw HttpProblem.badRequest(e.getMessage());
          }
        }
        default -> throw HttpProblem.badRequest("unknown field " + field
            + "; a key takes name, key_type, rotation_policy_days, business_hours");
      }
    }
    if (columns.isEmpty()) {
      throw HttpProblem.badRequest("nothing to change: send name, key_type, rotation_policy_days or business_hours");
    }
    return columns;
  }
}
