package io.keypulse.api;

import io.keypulse.delivery.WebhookTargets;
import io.keypulse.partner.ApiKeyInfo;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Credentials;
import io.keypulse.partner.Partners;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Registration (public) and a partner's own API keys: create, list, revoke. */
public final class PartnerRoutes {
  private static final int MAX_NAME = 200;

  private final Partners partners;
  private final ApiKeys apiKeys;
  private final CredentialCache credentials;
  private final WebhookTargets webhookTargets;
  private final Idempotency idempotency;

  PartnerRoutes(Partners partners, ApiKeys apiKeys, CredentialCache credentials, WebhookTargets webhookTargets,
                Idempotency idempotency) {
    this.partners = partners;
    this.apiKeys = apiKeys;
    this.credentials = credentials;
    this.webhookTargets = webhookTargets;
    this.idempotency = idempotency;
  }

  void register(RoutingContext ctx) {
    JsonObject body = JsonBodies.object(ctx);
    String name = name(body.getValue("name"), true);
    webhookUrl(body.getValue("webhook_url")).compose(url -> register(ctx, name, url, 3))
        .onSuccess(answer -> answer.send(ctx)).onFailure(ctx::fail);
  }

  /** A drawn partner id may collide (see Partners): the whole transaction, key record included, runs again. */
  private Future<Answer> register(RoutingContext ctx, String name, String url, int triesLeft) {
    return idempotency.create(ctx, conn -> partners.register(conn, name, url).map(r -> Answer.json(201,
            new JsonObject().put("partner_id", r.partnerId()).put("api_key", r.apiKey())
                .put("webhook_secret", r.webhookSecret()))))
        .recover(failure -> Partners.collided(failure) && triesLeft > 1
            ? register(ctx, name, url, triesLeft - 1) : Future.failedFuture(failure));
  }

  void createKey(RoutingContext ctx) {
    String name = name(JsonBodies.optionalObject(ctx).getValue("name"), false);
    String apiKey = Credentials.newApiKey(Credentials.PARTNER_KEY_PREFIX);
    idempotency.create(ctx, conn -> apiKeys.mint(conn, Caller.of(ctx).partnerId(), name, apiKey, "partner")
            .map(info -> Answer.json(201, new JsonObject().put("success", true).put("id", info.id())
                .put("name", info.name()).put("api_key", apiKey).put("prefix", info.prefix())
                .put("created_at", Times.iso(info.createdAt())))))
        .onSuccess(answer -> answer.send(ctx))
        .onFailure(failure -> ctx.fail(failure instanceof ApiKeys.TooManyKeys tooMany
            ? new HttpProblem(409, tooMany.getMessage()) : failure));
  }

  void listKeys(RoutingContext ctx) {
    apiKeys.list(Caller.of(ctx).partnerId()).onSuccess(keys -> {
      JsonArray list = new JsonArray();
      keys.forEach(k -> list.add(info(k)));
      ctx.json(new JsonObject().put("success", true).put("keys", list));
    }).onFailure(ctx::fail);
  }

  void revokeKey(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    long keyId = pathId(ctx, "id");
    apiKeys.revoke(partnerId, keyId, false)
        .compose(outcome -> switch (outcome) {
          case REVOKED, ALREADY_REVOKED -> Future.succeededFuture(keyId);
          case NOT_FOUND -> Future.failedFuture(HttpProblem.notFound("no API key " + keyId + " for this partner"));
          case LAST_ACTIVE_KEY -> Future.failedFuture(HttpProblem.badRequest(
              "cannot revoke the last active API key; create another one first"));
        })
        .onSuccess(id -> {
          credentials.announceChange(ctx.vertx(), partnerId);
          ctx.json(new JsonObject().put("success", true).put("revoked", id));
        })
        .onFailure(ctx::fail);
  }

  /** Optional at registration; when given it must pass the SSRF rules like any webhook URL. */
  private Future<String> webhookUrl(Object value) {
    if (value == null) {
      return Future.succeededFuture(null);
    }
    if (!(value instanceof String url)) {
      return Future.failedFuture(HttpProblem.badRequest("webhook_url must be a string"));
    }
    return webhookTargets.check(url.trim()).map(target -> target.uri().toString())
        .recover(e -> Future.failedFuture(e instanceof IllegalArgumentException
            ? HttpProblem.badRequest("webhook_url: " + e.getMessage())
            : e));
  }

  public static JsonObject info(ApiKeyInfo k) {
    return new JsonObject().put("id", k.id()).put("name", k.name()).put("prefix", k.prefix())
        .put("status", k.status()).put("created_at", Times.iso(k.createdAt()))
        .put("last_used_at", Times.iso(k.lastUsedAt()));
  }

  /** A numeric id in the path; 404 when it cannot be one (400 when it is not even printable). */
  public static long pathId(RoutingContext ctx, String param) {
    String raw = Params.path(ctx, param, 64);
    if (!raw.matches("\\d{1,18}")) {
      throw HttpProblem.notFound("no such " + param + ": " + raw);
    }
    return Long.parseLong(raw);
  }

  private static String name(Object value, boolean required) {
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank()) {
      throw HttpProblem.badRequest(value == null ? "name is required" : "name must be a non-empty string");
    }
    if (s.length() > MAX_NAME || !Text.printable(s)) {
      throw HttpProblem.badRequest("name must be at most " + MAX_NAME + " characters, " + Text.PRINTABLE);
    }
    return s.trim();
  }
}
