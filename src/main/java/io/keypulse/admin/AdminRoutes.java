package io.keypulse.admin;

import io.keypulse.api.BodyFields;
import io.keypulse.api.ClientLimit;
import io.keypulse.api.CredentialCache;
import io.keypulse.api.HttpProblem;
import io.keypulse.api.JsonBodies;
import io.keypulse.api.Params;
import io.keypulse.api.PartnerRoutes;
import io.keypulse.api.Times;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.DeliveriesDue;
import io.keypulse.delivery.DeliveryLog;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Credentials;
import io.keypulse.partner.PartnerInfo;
import io.keypulse.partner.Partners;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Optional;

/**
 * The operator API under /admin: partners, plans, suspension, keys minted and revoked by hand, the
 * cluster, dead-letter replay. Its own per-address rate limit comes before the token check.
 */
public final class AdminRoutes {
  private static final int REPLAY_MAX = 10_000;
  /** Longer than any partner id (p_ and 8 hex digits): room to grow, no room for a megabyte. */
  private static final int MAX_PARTNER_ID = 64;
  private final Partners partners;
  private final ApiKeys apiKeys;
  private final CredentialCache credentials;
  private final ClusterView cluster;
  private final DeliveryLog deliveries;
  private final ClientLimit limit;
  private final byte[] tokenDigest;
  private final Handler<RoutingContext> body;

  public AdminRoutes(Partners partners, ApiKeys apiKeys, CredentialCache credentials, Handler<RoutingContext> body,
                     ClusterView cluster, DeliveryLog deliveries, ClientLimit limit, String adminToken) {
    this.body = body;
    this.partners = partners;
    this.apiKeys = apiKeys;
    this.credentials = credentials;
    this.cluster = cluster;
    this.deliveries = deliveries;
    this.limit = limit;
    this.tokenDigest = digest(adminToken);
  }

  public Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    // The body is read only once the operator token checked out.
    router.route().handler(limit).handler(this::operatorOnly).handler(body);
    router.get("/partners").handler(this::listPartners);
    router.put("/partners/:id/plan").handler(this::setPlan);
    router.put("/partners/:id/status").handler(this::setStatus);
    router.post("/partners/:id/keys").handler(this::mintKey);
    router.delete("/keys/:id").handler(this::revokeKey);
    router.get("/cluster").handler(this::clusterView);
    router.get("/cluster/owner").handler(this::owner);
    router.post("/deliveries/replay").handler(this::replayFailed);
    return router;
  }

  /** Bearer token or X-Admin-Token, compared in constant time (digests: no length leak). */
  private void operatorOnly(RoutingContext ctx) {
    String bearer = ctx.request().getHeader("Authorization");
    String token = ctx.request().getHeader("X-Admin-Token");
    if (token == null && bearer != null && bearer.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = bearer.substring(7).trim();
    }
    if (token == null || !MessageDigest.isEqual(digest(token), tokenDigest)) {
      throw new HttpProblem(401, "operator token required (Authorization: Bearer <admin token>)");
    }
    ctx.next();
  }

  private void listPartners(RoutingContext ctx) {
    String after = Optional.ofNullable(Params.text(ctx, "after_id", MAX_PARTNER_ID)).orElse("");
    partners.list(after, 500).onSuccess(list -> {
      JsonArray out = new JsonArray();
      list.forEach(p -> out.add(partner(p)));
      ctx.json(new JsonObject().put("success", true).put("count", out.size()).put("partners", out));
    }).onFailure(ctx::fail);
  }

  /**
   * Replaces a partner's plan: requests per minute per key, per minute over all its keys, and active
   * keys. A field left out or null means the node default.
   */
  private void setPlan(RoutingContext ctx) {
    String partnerId = Params.path(ctx, "id", MAX_PARTNER_ID);
    JsonObject body = JsonBodies.object(ctx);
    Partners.Plan plan = new Partners.Plan(positiveOrNull(body, "rate_limit_per_min"),
        positiveOrNull(body, "partner_rate_limit_per_min"), positiveOrNull(body, "max_active_keys"));
    changed(ctx, partnerId, partners.setPlan(partnerId, plan), new JsonObject().put("success", true)
        .put("partner_id", partnerId).put("rate_limit_per_min", plan.perKey())
        .put("partner_rate_limit_per_min", plan.perPartner()).put("max_active_keys", plan.maxActiveKeys()));
  }

  private static Integer positiveOrNull(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value != null && !(value instanceof Integer n && n > 0)) {
      throw HttpProblem.badRequest(field + " must be a positive integer, or null for the default");
    }
    return (Integer) value;
  }

  private void setStatus(RoutingContext ctx) {
    String partnerId = Params.path(ctx, "id", MAX_PARTNER_ID);
    Object status = JsonBodies.object(ctx).getValue("status");
    if (!"active".equals(status) && !"suspended".equals(status)) {
      throw HttpProblem.badRequest("status must be active or suspended");
    }
    changed(ctx, partnerId, partners.setStatus(partnerId, (String) status),
        new JsonObject().put("success", true).put("partner_id", partnerId).put("status", status));
  }

  private void changed(RoutingContext ctx, String partnerId, Future<Boolean> update, JsonObject answer) {
    update.onSuccess(found -> {
      if (!found) {
        ctx.fail(HttpProblem.notFound("no partner " + partnerId));
        return;
      }
      credentials.announceChange(ctx.vertx(), partnerId);
      ctx.json(answer);
    }).onFailure(ctx::fail);
  }

  /** Operator-minted keys carry the reference dialect's kp_live_ prefix. */
  private void mintKey(RoutingContext ctx) {
    String partnerId = Params.path(ctx, "id", MAX_PARTNER_ID);
    String name = BodyFields.text(JsonBodies.optionalObject(ctx), "name", 200, false);
    String apiKey = Credentials.newApiKey(Credentials.OPERATOR_KEY_PREFIX);
    apiKeys.mint(partnerId, name, apiKey, "operator").onSuccess(info -> {
      ctx.response().setStatusCode(201);
      ctx.json(new JsonObject().put("success", true).put("partner_id", partnerId).put("id", info.id())
          .put("api_key", apiKey).put("created_at", Times.iso(info.createdAt())));
    }).onFailure(failure -> ctx.fail(isMissingPartner(failure) ? HttpProblem.notFound("no partner " + partnerId)
        : failure instanceof ApiKeys.TooManyKeys tooMany ? new HttpProblem(409, tooMany.getMessage()
            + " (the plan's max_active_keys)") : failure));
  }

  private void revokeKey(RoutingContext ctx) {
    long keyId = PartnerRoutes.pathId(ctx, "id");
    apiKeys.ownerOf(keyId)
        .compose(owner -> owner.isEmpty()
            ? Future.failedFuture(HttpProblem.notFound("no API key " + keyId))
            : apiKeys.revoke(owner.get(), keyId, true).map(outcome -> owner.get()))
        .onSuccess(owner -> {
          credentials.announceChange(ctx.vertx(), owner);
          ctx.json(new JsonObject().put("success", true).put("revoked", keyId).put("partner_id", owner));
        })
        .onFailure(ctx::fail);
  }

  private void clusterView(RoutingContext ctx) {
    cluster.describe().onSuccess(view -> ctx.json(view.put("success", true))).onFailure(ctx::fail);
  }

  /** Dead letters back into the outbox: {partner_id?, since?, limit? (default and max 10000)}. */
  private void replayFailed(RoutingContext ctx) {
    JsonObject body = JsonBodies.object(ctx);
    String partner = BodyFields.text(body, "partner_id", MAX_PARTNER_ID, false);
    Object since = body.getValue("since");
    Object limit = body.getValue("limit", REPLAY_MAX);
    Instant from = since instanceof String text ? Times.parse(text) : null;
    if ((since != null && from == null) || !(limit instanceof Integer n) || n < 1 || n > REPLAY_MAX) {
      throw HttpProblem.badRequest("expected {partner_id?: string, since?: ISO-8601 time, limit?: 1.." + REPLAY_MAX + "}");
    }
    deliveries.replayFailed(partner, from, (Integer) limit).onSuccess(count -> {
      if (count > 0) {
        ctx.vertx().eventBus().publish(Addresses.DELIVERIES_DUE, new DeliveriesDue(count));
      }
      ctx.json(new JsonObject().put("success", true).put("replayed", count));
    }).onFailure(ctx::fail);
  }

  /** Which member and shard hold a key's state: GET /admin/cluster/owner?partner_id=…&key_id=… */
  private void owner(RoutingContext ctx) {
    String partnerId = Params.text(ctx, "partner_id", MAX_PARTNER_ID);
    String keyId = Params.text(ctx, "key_id", 1024);
    if (partnerId == null || keyId == null) {
      throw HttpProblem.badRequest("partner_id and key_id are required");
    }
    ctx.json(cluster.ownerOf(partnerId, keyId).put("success", true));
  }

  private static JsonObject partner(PartnerInfo p) {
    return new JsonObject().put("id", p.id()).put("name", p.name()).put("status", p.status())
        .put("rate_limit_per_min", p.ratePerMinute()).put("partner_rate_limit_per_min", p.partnerPerMinute())
        .put("max_active_keys", p.maxActiveKeys()).put("webhook_url", p.webhookUrl())
        .put("active_keys", p.activeKeys()).put("created_at", Times.iso(p.createdAt()));
  }

  private static boolean isMissingPartner(Throwable failure) {
    return failure instanceof io.vertx.pgclient.PgException pg && "23503".equals(pg.getSqlState());
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
