package io.keypulse.api;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.DeliveriesDue;
import io.keypulse.config.Config;
import io.keypulse.delivery.DeliveryLog;
import io.keypulse.delivery.WebhookTargets;
import io.keypulse.partner.Partners;
import io.keypulse.rules.Rule;
import io.keypulse.rules.RuleStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.Set;

/**
 * Alert rules, the partner webhook and its secret, the delivery log, replays and test sends
 * (partner dialect). Every URL passes the SSRF rules here, and again before every send.
 */
final class WebhookRoutes {
  private static final int MAX_NAME = 200;
  private static final Set<String> SEVERITIES = Set.of("nominal", "warning", "critical");
  private static final Set<String> STATUSES = Set.of("pending", "delivered", "failed");
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 200;
  private static final long TEST_POLL_MILLIS = 100;

  private final RuleStore rules;
  private final DeliveryLog log;
  private final Partners partners;
  private final WebhookTargets targets;
  private final CredentialCache credentials;
  private final int maxActiveRules;
  private final long testWaitMillis;
  private final int secretOverlapSeconds;
  private final Clock clock;

  WebhookRoutes(RuleStore rules, DeliveryLog log, Partners partners, WebhookTargets targets,
                CredentialCache credentials, Config.Webhook config, Clock clock) {
    this.rules = rules;
    this.log = log;
    this.partners = partners;
    this.targets = targets;
    this.credentials = credentials;
    this.maxActiveRules = config.maxActiveRules();
    // A test send answers with its first attempt, which may take the receiver's whole timeout.
    this.testWaitMillis = config.timeoutMs() + 2000L;
    this.secretOverlapSeconds = config.secretOverlapSeconds();
    this.clock = clock;
  }

  void createRule(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    JsonObject body = JsonBodies.object(ctx);
    String name = requiredText(body, "name", MAX_NAME);
    String match = requiredText(body, "event_type_match", 64);
    if (!match.equals("*") && !EventTypes.valid(match)) {
      throw HttpProblem.badRequest("event_type_match must be * or an event type (" + EventTypes.RULE + ")");
    }
    Object severity = body.getValue("severity", "warning");
    if (!(severity instanceof String s) || !SEVERITIES.contains(s)) {
      throw HttpProblem.badRequest("severity must be one of critical, nominal, warning");
    }
    checked(body.getValue("webhook_url"), "webhook_url", true)
        .compose(url -> rules.list(partnerId, false).compose(active -> active.size() >= maxActiveRules
            ? Future.failedFuture(HttpProblem.badRequest("at most " + maxActiveRules
                + " active rules per partner; delete one first"))
            : rules.create(partnerId, name, match, url, (String) severity)))
        .onSuccess(rule -> {
          ctx.response().setStatusCode(201);
          ctx.json(new JsonObject().put("success", true).put("rule", rule.created()));
        })
        .onFailure(ctx::fail);
  }

  void listRules(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    String all = Params.oneOf(ctx, "include_inactive", Set.of("true", "false"));
    rules.list(partnerId, "true".equals(all)).onSuccess(list -> {
      JsonArray out = new JsonArray();
      list.stream().map(Rule::listed).forEach(out::add);
      ctx.json(new JsonObject().put("success", true).put("partner_id", partnerId).put("count", list.size())
          .put("rules", out));
    }).onFailure(ctx::fail);
  }

  /** Soft delete: the rule stops firing once this returns (matching reads the rules table at commit). */
  void deleteRule(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    long id = PartnerRoutes.pathId(ctx, "id");
    rules.deactivate(partnerId, id).compose(found -> found
            ? Future.succeededFuture(id)
            : Future.failedFuture(HttpProblem.notFound("no rule " + id + " for this partner")))
        .onSuccess(done -> ctx.json(new JsonObject().put("success", true).put("deactivated", id)))
        .onFailure(ctx::fail);
  }

  /** Sets ({url}) or removes ({url: null}) the webhook that receives detector alerts. */
  void putPartnerWebhook(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    JsonObject body = JsonBodies.object(ctx);
    if (!body.containsKey("url")) {
      throw HttpProblem.badRequest("url is required (null removes the webhook)");
    }
    checked(body.getValue("url"), "url", false)
        .compose(url -> partners.setWebhookUrl(partnerId, url).map(url))
        .onSuccess(url -> ctx.json(new JsonObject().put("success", true).put("webhook_url", url)))
        .onFailure(ctx::fail);
  }

  /**
   * A new signing secret, shown once; every node signs with it from its next attempt on, and with
   * the replaced one too (webhook-signature only) until webhook.secret_overlap_seconds have passed.
   */
  void rotateSecret(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    partners.rotateWebhookSecret(partnerId, secretOverlapSeconds).onSuccess(secret -> {
      credentials.announceChange(ctx.vertx(), partnerId);
      ctx.json(new JsonObject().put("success", true).put("webhook_secret", secret));
    }).onFailure(ctx::fail);
  }

  void listDeliveries(RoutingContext ctx) {
    DeliveryLog.Filter filter = new DeliveryLog.Filter(Caller.of(ctx).partnerId(),
        Params.oneOf(ctx, "status", STATUSES), Params.positiveLong(ctx, "rule_id"),
        Params.positiveLong(ctx, "before_id"), Params.limit(ctx, DEFAULT_PAGE, MAX_PAGE));
    log.find(filter).onSuccess(page -> ctx.json(new JsonObject().put("success", true)
            .put("count", page.items().size()).put("deliveries", new JsonArray(page.items()))
            .put("next_before_id", page.nextBeforeId())))
        .onFailure(ctx::fail);
  }

  void getDelivery(RoutingContext ctx) {
    long id = PartnerRoutes.pathId(ctx, "id");
    log.one(Caller.of(ctx).partnerId(), id)
        .compose(found -> found.map(Future::succeededFuture)
            .orElseGet(() -> Future.failedFuture(HttpProblem.notFound("no delivery " + id + " for this partner"))))
        .onSuccess(d -> ctx.json(new JsonObject().put("success", true).put("delivery", d)))
        .onFailure(ctx::fail);
  }

  /** Sends a finished delivery again: same body, same delivery id, a fresh retry budget. */
  void replay(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    long id = PartnerRoutes.pathId(ctx, "id");
    log.replay(partnerId, id).compose(outcome -> switch (outcome) {
          case REPLAYED -> Future.succeededFuture(id);
          case PENDING -> Future.failedFuture(new HttpProblem(409,
              "delivery " + id + " is still pending; it is retried on its own schedule"));
          case NOT_FOUND -> Future.failedFuture(HttpProblem.notFound("no delivery " + id + " for this partner"));
        })
        .onSuccess(done -> {
          ctx.vertx().eventBus().publish(Addresses.DELIVERIES_DUE, new DeliveriesDue(1));
          ctx.response().setStatusCode(202);
          ctx.json(new JsonObject().put("success", true).put("replayed", id).put("status", "pending"));
        })
        .onFailure(ctx::fail);
  }

  /**
   * Sends a signed test payload to {url} or, without one, to the partner webhook, and answers with
   * the outcome of the first attempt (or pending, if it takes longer than the receiver's timeout).
   */
  void test(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    Object given = JsonBodies.optionalObject(ctx).getValue("url");
    Future<String> url = given != null
        ? checked(given, "url", true)
        : partners.webhookUrl(partnerId).compose(found -> found.isEmpty()
            ? Future.failedFuture(HttpProblem.badRequest(
                "no webhook to test: pass {\"url\": ...} or set one with PUT /api/v1/partners/webhook"))
            : checked(found.get(), "webhook_url", true));
    url.compose(target -> log.test(partnerId, target, clock.instant()))
        .compose(id -> {
          ctx.vertx().eventBus().publish(Addresses.DELIVERIES_DUE, new DeliveriesDue(1));
          return firstAttempt(ctx, partnerId, id);
        })
        .onSuccess(delivery -> ctx.json(new JsonObject().put("success", true).put("delivery", delivery)))
        .onFailure(ctx::fail);
  }

  private Future<JsonObject> firstAttempt(RoutingContext ctx, String partnerId, long id) {
    Promise<JsonObject> done = Promise.promise();
    long giveUpAt = System.currentTimeMillis() + testWaitMillis;
    poll(ctx, partnerId, id, giveUpAt, done);
    return done.future();
  }

  private void poll(RoutingContext ctx, String partnerId, long id, long giveUpAt, Promise<JsonObject> done) {
    ctx.vertx().setTimer(TEST_POLL_MILLIS, t -> log.one(partnerId, id).onComplete(result -> {
      if (result.failed()) {
        done.fail(result.cause());
      } else if (!result.result().orElseThrow().getJsonArray("attempts").isEmpty()
          || System.currentTimeMillis() > giveUpAt || ctx.request().connection() == null) {
        done.complete(result.result().orElseThrow());
      } else {
        poll(ctx, partnerId, id, giveUpAt, done);
      }
    }));
  }

  /** A URL that passes the SSRF rules; null allowed (and kept) unless required. */
  private Future<String> checked(Object value, String field, boolean required) {
    if (value == null && !required) {
      return Future.succeededFuture(null);
    }
    if (!(value instanceof String url)) {
      return Future.failedFuture(HttpProblem.badRequest(field + (value == null ? " is required" : " must be a string")));
    }
    return targets.check(url.trim()).map(target -> target.uri().toString())
        .recover(e -> Future.failedFuture(e instanceof IllegalArgumentException
            ? HttpProblem.badRequest(field + ": " + e.getMessage())
            : e));
  }

  private static String requiredText(JsonObject body, String field, int max) {
    Object value = body.getValue(field);
    if (!(value instanceof String s) || s.isBlank()) {
      throw HttpProblem.badRequest(field + (value == null ? " is required" : " must be a non-empty string"));
    }
    if (s.length() > max || !Text.printable(s)) {
      throw HttpProblem.badRequest(field + " must be at most " + max + " characters, " + Text.PRINTABLE);
    }
    return s.trim();
  }
}
