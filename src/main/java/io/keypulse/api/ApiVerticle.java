package io.keypulse.api;

import io.keypulse.admin.AdminRoutes;
import io.keypulse.admin.ClusterView;
import io.keypulse.bus.Addresses;
import io.keypulse.bus.CredentialsChanged;
import io.keypulse.config.Config;
import io.keypulse.db.Pools;
import io.keypulse.delivery.DeliveryLog;
import io.keypulse.delivery.WebhookTargets;
import io.keypulse.detect.AlertQueries;
import io.keypulse.detect.DetectorReport;
import io.keypulse.detect.PartnerSettingsStore;
import io.keypulse.detect.Policy;
import io.keypulse.live.BridgeSends;
import io.keypulse.live.Dashboard;
import io.keypulse.live.LiveBridge;
import io.keypulse.live.LiveStreams;
import io.keypulse.live.Sessions;
import io.keypulse.ops.ApiDescription;
import io.keypulse.ops.OpsRoutes;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Partners;
import io.keypulse.rules.RuleStore;
import io.keypulse.store.EventQueries;
import io.keypulse.store.KeyActivity;
import io.keypulse.store.KeyQueries;
import io.keypulse.store.StatsQueries;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The HTTP API: both dialects, queries, partner self-service, /admin, health and metrics. */
public final class ApiVerticle extends VerticleBase {
  private final ApiSetup setup;
  private HttpServer server;
  private ConnectionGuard.Watch watch;
  private Router router;

  public ApiVerticle(ApiSetup setup) {
    this.setup = setup;
  }

  @Override
  public Future<?> start() {
    Config config = setup.config();
    Pool pool = Pools.query(vertx, config.pg(), setup.pg());
    EventFields fields = new EventFields(config.ingest(), setup.clock());
    ApiKeys apiKeys = new ApiKeys(pool, config.rateLimit().maxActiveKeys());
    Partners partners = new Partners(pool, setup.secrets());
    ClientLimit anonymous = new ClientLimit(setup.limiter(), "anon", config.rateLimit().anonymousPerMin(), config.rateLimit().refusalDelayMs(),
        "too many requests without a valid API key from this address; retry later");
    Authenticator auth = new Authenticator(setup.credentials(), setup.limiter(), config.rateLimit(),
        Counter.builder("keypulse.ratelimit.rejected").description("Requests refused with 429")
            .register(setup.metrics()), anonymous);
    Idempotency idempotency = new Idempotency(pool, setup.secrets(), setup.keysInFlight());
    // An event's occurred_at is at most this far ahead of its commit: what turns a time filter into an id bound.
    Duration futureSkew = Duration.ofSeconds(config.ingest().maxFutureSkewSeconds());
    EventQueries events = new EventQueries(pool, futureSkew);
    IngestRoutes ingest = new IngestRoutes(new EventStoreClient(vertx, config.store().appendTimeoutSeconds()), events,
        idempotency, setup.metrics());
    KeyQueries keys = new KeyQueries(pool);
    PartnerSettingsStore settings = new PartnerSettingsStore(pool, Policy.defaults(config.detect()));
    AlertQueries alerts = new AlertQueries(pool);
    QueryRoutes queries = new QueryRoutes(events, keys, new StatsQueries(pool), settings, new KeyActivity(pool, futureSkew),
        setup.clock(), config.ingest().maxKeyIdLength());
    DetectionRoutes detection = new DetectionRoutes(settings, alerts, keys, setup.detectors(),
        config.ingest().maxKeyIdLength(), idempotency);
    ExemptionRoutes exemptions = new ExemptionRoutes(settings, config.ingest(), setup.clock(), idempotency);
    DetectorRoutes detectors = new DetectorRoutes(new DetectorReport(pool, settings, futureSkew));
    Sessions sessions = setup.sessions();
    LiveStreams streams = new LiveStreams(config.live(), events, alerts, setup.liveStreams(), setup.liveQuota(),
        config.rateLimit().refusalDelayMs(), setup.metrics());
    WebhookTargets webhookTargets = new WebhookTargets(vertx, config.webhook().allowedCidrs(), 0);
    PartnerRoutes self = new PartnerRoutes(partners, apiKeys, setup.credentials(), webhookTargets, idempotency);
    WebhookRoutes webhooks = new WebhookRoutes(new RuleStore(pool), new DeliveryLog(pool), partners, webhookTargets,
        setup.credentials(), config.webhook(), setup.clock(), idempotency);
    ClientLimit registrationLimit = new ClientLimit(setup.limiter(), "register", config.rateLimit().registerPerMin(), config.rateLimit().refusalDelayMs(),
        "too many registrations from this address; retry later");
    ConnectionGuard guard = setup.connections();
    BodyReader body = new BodyReader(guard, config.http().bodyLimitBytes());
    AdminRoutes admin = new AdminRoutes(partners, apiKeys, setup.credentials(), body,
        new ClusterView(vertx, setup.hazelcast(), setup.detectStats(), new DeliveryLog(pool)), new DeliveryLog(pool),
        new ClientLimit(setup.limiter(), "admin", config.rateLimit().adminPerMin(), config.rateLimit().refusalDelayMs(),
            "too many operator requests from this address; retry later"), setup.adminToken());
    Failures failures = new Failures(setup.metrics());

    router = Router.router(vertx);
    router.route().handler(new RequestTrail());
    // A body is read only once its caller is known and allowed (BodyReader, after authentication):
    // until then the request is paused, so a stranger's upload costs no memory.
    router.route().handler(ctx -> {
      if (carriesBody(ctx.request())) {
        ctx.request().pause();
      }
      ctx.next();
    });
    LiveBridge bridge = new LiveBridge(vertx, sessions, session -> auth.admitBridge(vertx, session),
        setup.liveQuota());
    // SockJS needs its fallbacks' send bodies read for it. They carry the token in the frames
    // inside (each frame then meets admitBridge), so they are read small and bounded, as a registration's.
    router.postWithRegex(BridgeSends.PATH).handler(new BodyReader(guard, BridgeSends.MAX_BYTES))
        .handler(BridgeSends::check);
    router.routeWithRegex(BridgeSends.POLLS).handler(BridgeSends::lastOnConnection);
    router.route("/eventbus/*").subRouter(bridge.router());
    Handler<RoutingContext> key = auth.required();
    router.post("/api/v1/partners/register").handler(registrationLimit)
        .handler(new BodyReader(guard, config.http().registerBodyLimitBytes())).handler(idempotency)
        .handler(self::register);
    router.post("/api/v1/api-keys").handler(key).handler(body).handler(idempotency).handler(self::createKey);
    router.get("/api/v1/api-keys").handler(key).handler(self::listKeys);
    router.delete("/api/v1/api-keys/:id").handler(key).handler(self::revokeKey);
    // Idempotency-Key is looked up after authentication, the rate limit and the body read (admission order).
    Dialect partnerDialect = new PartnerDialect(fields, config.ingest().maxBatch());
    Dialect single = ReferenceDialect.single(fields);
    Dialect batch = ReferenceDialect.batch(fields, config.ingest().maxBatch());
    router.post("/api/v1/events/ingest").handler(key).handler(body).handler(ingest.idempotency(partnerDialect))
        .handler(ingest.handler(partnerDialect, "partner"));
    router.post("/api/events").handler(key).handler(body).handler(ingest.idempotency(single))
        .handler(ingest.handler(single, "reference"));
    router.post("/api/events/batch").handler(key).handler(body).handler(ingest.idempotency(batch))
        .handler(ingest.handler(batch, "reference"));
    router.get("/api/events").handler(key).handler(queries::events);
    router.post("/api/v1/auth/token").handler(key).handler(body)
        .handler(ctx -> ctx.json(sessions.grant(Caller.of(ctx).partnerId(), Caller.of(ctx).apiKeyId())));
    router.get("/api/events/stream").handler(auth.keyOrSession(sessions))
        .handler(ctx -> streams.open(ctx, Caller.of(ctx).partnerId(), Authenticator.sessionExpiresAt(ctx)));
    router.get("/api/keys").handler(key).handler(queries::keys);
    router.get("/api/keys/:key_id/activity").handler(key).handler(queries::activity);
    router.get("/api/stats").handler(auth.optional()).handler(queries::stats);
    router.patch("/api/keys/:key_id").handler(key).handler(body).handler(detection::patchKey);
    router.get("/api/alerts").handler(key).handler(detection::listAlerts);
    router.post("/api/alerts/:id/ack").handler(key).handler(body).handler(detection::ackAlert);
    router.get("/api/v1/policies").handler(key).handler(detection::getPolicy);
    router.put("/api/v1/policies").handler(key).handler(body).handler(detection::putPolicy);
    router.post("/api/v1/thresholds").handler(key).handler(body).handler(idempotency).handler(detection::createThreshold);
    router.get("/api/v1/thresholds").handler(key).handler(detection::listThresholds);
    router.delete("/api/v1/thresholds/:id").handler(key).handler(detection::deleteThreshold);
    router.post("/api/v1/exceptions").handler(key).handler(body).handler(idempotency).handler(exemptions::create);
    router.get("/api/v1/exceptions").handler(key).handler(exemptions::list);
    router.get("/api/v1/exceptions/:id").handler(key).handler(exemptions::get);
    router.delete("/api/v1/exceptions/:id").handler(key).handler(exemptions::delete);
    router.get("/api/v1/detectors").handler(key).handler(detectors::list);
    router.post("/api/v1/rules").handler(key).handler(body).handler(idempotency).handler(webhooks::createRule);
    router.get("/api/v1/rules").handler(key).handler(webhooks::listRules);
    router.delete("/api/v1/rules/:id").handler(key).handler(webhooks::deleteRule);
    router.put("/api/v1/partners/webhook").handler(key).handler(body).handler(webhooks::putPartnerWebhook);
    router.post("/api/v1/partners/webhook-secret/rotate").handler(key).handler(body).handler(webhooks::rotateSecret);
    router.get("/api/v1/webhooks/deliveries").handler(key).handler(webhooks::listDeliveries);
    router.get("/api/v1/webhooks/deliveries/:id").handler(key).handler(webhooks::getDelivery);
    router.post("/api/v1/webhooks/deliveries/:id/replay").handler(key).handler(body).handler(webhooks::replay);
    router.post("/api/v1/webhooks/test").handler(key).handler(body).handler(webhooks::test);
    router.route("/admin/*").subRouter(admin.router(vertx));
    Dashboard.mount(router);
    OpsRoutes.mount(router, vertx, pool, setup.hazelcast(), setup.readiness(), setup.metrics());
    ApiDescription.load().mount(router);
    router.route().failureHandler(RequestTrail.around(failures::handle));
    // No route, so no key was checked: the answer carries the client's anonymous budget.
    router.errorHandler(404, ctx -> anonymous.charge(ctx).onComplete(charged -> failures.handle(ctx)))
        .errorHandler(405, ctx -> anonymous.charge(ctx).onComplete(charged -> failures.handle(ctx)));
    // A URI that does not decode fails route matching itself; answered at once, as Vert.x ends the response next.
    router.errorHandler(400, failures::malformedUri);

    watch = guard.watch(vertx);
    server = vertx.createHttpServer(new HttpServerOptions().setHost(config.http().host())
            .setIdleTimeout(config.http().idleTimeoutSeconds())
            // HTTP/1.1 only: the connection guard tracks one request at a time per connection.
            .setHttp2ClearTextEnabled(false))
        .connectionHandler(watch.connections())
        .requestHandler(request -> {
          if (watch.request(request)) {
            router.handle(request);
          }
        });
    // Live sessions rest on API keys: when a partner's change, its streams and sockets end (and may come back).
    MessageConsumer<CredentialsChanged> changes = vertx.eventBus().consumer(Addresses.CREDENTIALS_CHANGED, msg -> {
      streams.credentialsChanged(msg.body().partnerId());
      bridge.credentialsChanged(msg.body().partnerId());
    });
    return Future.join(changes.completion(), server.listen(setup.port()));
  }

  /** The route table, once started: what the contract test compares with the API description. */
  public Router router() {
    return router;
  }

  /** Stops accepting, lets in-flight requests finish (up to the grace period). */
  @Override
  public Future<?> stop() {
    watch.stop();
    return server.shutdown(setup.config().http().shutdownGraceSeconds(), TimeUnit.SECONDS);
  }

  /** Whether a request says it has a body: a length above zero, or a chunked one. */
  private static boolean carriesBody(HttpServerRequest request) {
    String length = request.getHeader("Content-Length");
    return request.getHeader("Transfer-Encoding") != null || (length != null && !length.trim().equals("0"));
  }
}
