package io.keypulse;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.admin.MemberStatusVerticle;
import io.keypulse.api.ApiSetup;
import io.keypulse.api.ApiVerticle;
import io.keypulse.api.CacheSyncVerticle;
import io.keypulse.api.ConnectionGuard;
import io.keypulse.api.CredentialCache;
import io.keypulse.api.RateLimitVerticle;
import io.keypulse.api.RateLimiter;
import io.keypulse.bus.Codecs;
import io.keypulse.cluster.ClusterIdentity;
import io.keypulse.cluster.ClusterMetrics;
import io.keypulse.cluster.ClusterSetup;
import io.keypulse.config.Config;
import io.keypulse.config.SecretFiles;
import io.keypulse.db.EmbeddedPostgres;
import io.keypulse.db.Installation;
import io.keypulse.db.Migrations;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.db.PostgresWatchdog;
import io.keypulse.delivery.DeliveryVerticle;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.DetectSetup;
import io.keypulse.detect.DetectStats;
import io.keypulse.detect.DetectorVerticle;
import io.keypulse.detect.PartnerSettingsCache;
import io.keypulse.live.LivePublisher;
import io.keypulse.live.LiveQuota;
import io.keypulse.live.LiveStreams;
import io.keypulse.live.Sessions;
import io.keypulse.ops.Readiness;
import io.keypulse.ops.StartupTimes;
import io.keypulse.ops.RuntimeMetrics;
import io.keypulse.partner.ApiKeys;
import io.keypulse.partner.Partners;
import io.keypulse.partner.SecretBox;
import io.keypulse.schedule.SchedulerVerticle;
import io.keypulse.store.EventStoreVerticle;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One KeyPulse node: Postgres (embedded unless configured), migrations, the clustered Vert.x
 * instance and its verticles, in that order; and the reverse on {@link #close()}.
 * Start-up blocks: call it from main or a test thread, never from an event loop.
 */
public final class KeyPulseNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyPulseNode.class);
  private static final long STOP_TIMEOUT_SECONDS = 60;
  private static final Duration SETTLE_LIMIT = Duration.ofSeconds(30);

  private final Vertx vertx;
  private final EmbeddedPostgres embedded;
  private final PostgresWatchdog watchdog;
  private final PgTarget pg;
  private final int port;
  private final Readiness readiness;
  private final List<String> deployments;
  private final String adminToken;
  private final RuntimeMetrics runtimeMetrics;
  private final Router router;

  private KeyPulseNode(Vertx vertx, EmbeddedPostgres embedded, PostgresWatchdog watchdog, PgTarget pg, int port,
                       Readiness readiness, List<String> deployments, String adminToken, RuntimeMetrics runtimeMetrics,
                       Router router) {
    this.vertx = vertx;
    this.embedded = embedded;
    this.watchdog = watchdog;
    this.pg = pg;
    this.port = port;
    this.readiness = readiness;
    this.deployments = deployments;
    this.adminToken = adminToken;
    this.runtimeMetrics = runtimeMetrics;
    this.router = router;
  }

  public static KeyPulseNode start(Config config) {
    return start(config, false);
  }

  /** throwawayDataDir: --ephemeral, whose directory must not outlive the node even if it is killed. */
  public static KeyPulseNode start(Config config, boolean throwawayDataDir) {
    return start(config, throwawayDataDir, new StartupTimes());
  }

  /**
   * times: each phase of the start is noted there, for the ready line. The cluster member starts
   * beside Postgres and the migrations: Hazelcast's start is ~2 s, mostly class loading, and the
   * two need nothing from each other (the member serves nothing until the verticles are deployed).
   */
  public static KeyPulseNode start(Config config, boolean throwawayDataDir, StartupTimes times) {
    // Ports first: a taken one is then one line naming its flag, before Hazelcast and Vert.x log
    // their own traces of the same failure.
    portFree(config.cluster().host(), config.cluster().port(), "cluster port",
        "--cluster-port N (cluster.port, KEYPULSE_CLUSTER_PORT)");
    portFree(config.http().host(), config.http().port(), "HTTP port", "--port N (http.port, KEYPULSE_HTTP_PORT)");
    portFree(config.cluster().eventbusHost(), config.cluster().eventbusPort(), "event-bus port",
        "--eventbus-port N (cluster.eventbus_port, KEYPULSE_CLUSTER_EVENTBUS_PORT)");
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Vert.x names an HTTP client's connection pool after its endpoint: a set of series per partner
    // receiver, kept for the node's lifetime, however many partners come and go. The delivery actor's
    // own meters (keypulse_webhook_*) count attempts and their times without naming anyone.
    metrics.config().meterFilter(MeterFilter.deny(
        id -> id.getName().startsWith("vertx.pool.") && "http".equals(id.getTag("pool_type"))));
    HazelcastClusterManager cluster = new HazelcastClusterManager(ClusterSetup.hazelcast(config.cluster()));
    Future<Vertx> clustered = Vertx.builder()
        .with(vertxOptions(config))
        .withClusterManager(cluster)
        .withMetrics(new MicrometerMetricsFactory(metrics))
        .buildClustered();
    EmbeddedPostgres embedded = null;
    PostgresWatchdog watchdog = null;
    try {
      embedded = config.pg().embedded()
          ? EmbeddedPostgres.start(config.dataDir(), config.pg().embeddedPort(), throwawayDataDir,
              config.pg().embeddedSettings()) : null;
      watchdog = embedded != null ? PostgresWatchdog.start(embedded, config.pg()) : null;
      PgTarget pg = embedded != null ? embedded.target() : PgTarget.parse(config.pg().url());
      log.info("Postgres at {}", pg);
      times.done("postgres");
      Readiness readiness = new Readiness();
      if (watchdog != null) {
        readiness.store(watchdog::health);
      }
      Migrations.apply(pg);
      readiness.migrated();
      times.done("migrations");
      Vertx vertx = clustered.await();
      return deploy(config, vertx, cluster, metrics, embedded, watchdog, pg, readiness, times);
    } catch (RuntimeException e) {
      leaveCluster(clustered);
      stopStore(watchdog, embedded);
      throw e;
    }
  }

  /** Port 0 (any free one) is always free; the check binds and lets go, so a race is still possible (and still one line). */
  private static void portFree(String host, int port, String what, String flag) {
    if (port <= 0) {
      return;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new StartupFailure(what + " " + host + ":" + port + " is in use by another process: choose another with "
          + flag, e);
    }
  }

  /** A start that failed leaves no member behind (its threads would keep the process alive). */
  private static void leaveCluster(Future<Vertx> clustered) {
    try {
      clustered.transform(joined -> joined.succeeded() ? joined.result().close() : Future.succeededFuture())
          .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("could not leave the cluster after a failed start: {}", e.toString());
    }
  }

  private static KeyPulseNode deploy(Config config, Vertx vertx, HazelcastClusterManager cluster,
                                     PrometheusMeterRegistry metrics, EmbeddedPostgres embedded,
                                     PostgresWatchdog watchdog, PgTarget pg, Readiness readiness, StartupTimes times) {
    RuntimeMetrics runtimeMetrics = RuntimeMetrics.bind(metrics);
    Codecs.registerAll(vertx);
    String adminToken = SecretFiles.configuredOrGenerated(config.admin().token(), config.dataDir(), "admin-token",
        KeyPulseNode::randomToken);
    String masterKey = SecretFiles.configuredOrGenerated(config.secrets().masterKey(), config.dataDir(), "master-key",
        SecretBox::newMasterKey);
    String jwtSecret = SecretFiles.configuredOrGenerated(config.live().jwtSecret(), config.dataDir(), "jwt-secret",
        Sessions::newSecret);
    // Before it serves anything: a member that does not share the cluster's secrets and database leaves.
    new ClusterIdentity()
        .with("admin token", "admin.token, KEYPULSE_ADMIN_TOKEN", adminToken)
        .with("JWT secret", "live.jwt_secret, KEYPULSE_LIVE_JWT_SECRET", jwtSecret)
        .with("master key", "secrets.master_key, KEYPULSE_SECRETS_MASTER_KEY", masterKey)
        .with("database", "pg.url, --pg", Installation.id(pg))
        .claimOrCheck(cluster.getHazelcastInstance());
    if (!ClusterSetup.awaitSettled(cluster.getHazelcastInstance(), SETTLE_LIMIT)) {
      log.warn("cluster still rebalancing after {}; starting anyway", SETTLE_LIMIT);
    }
    times.done("cluster");
    SecretBox secrets = new SecretBox(masterKey);
    int port = config.http().port() > 0 ? config.http().port() : freePort();
    Clock clock = Clock.systemUTC();
    HazelcastInstance hazelcast = cluster.getHazelcastInstance();
    ClusterMetrics.register(metrics, hazelcast, config.detect().shardsPerNode());
    DetectRouter detectors = new DetectRouter(vertx, hazelcast, config.detect().shardsPerNode(),
        config.detect().replyTimeoutMs());
    DetectSetup detect = new DetectSetup(config, pg, hazelcast, new PartnerSettingsCache(), new DetectStats(metrics), clock);
    Pool queryPool = Pools.query(vertx, config.pg(), pg);
    Sessions sessions = new Sessions(vertx, jwtSecret, config.live().tokenTtlSeconds());
    CredentialCache credentials = new CredentialCache(vertx, new ApiKeys(queryPool, config.rateLimit().maxActiveKeys()),
        config.auth().cacheSeconds(), config.auth().negativeCacheSeconds(), config.auth().maxConcurrentLookups(), clock,
        metrics);
    ApiSetup api = new ApiSetup(config, pg, port, metrics, secrets, adminToken, credentials,
        new RateLimiter(hazelcast, clock), hazelcast, readiness, clock, detectors, detect.stats(), sessions,
        LiveStreams.openGauge(metrics), new LiveQuota(config.live().maxStreamsPerPartner()),
        new ConnectionGuard(config.http()), ConcurrentHashMap.newKeySet());

    // Deployed in dependency order; close() undeploys in reverse (HTTP first, the store last).
    // Named by its cluster member: a delivery claimed by a member that has left is visibly orphaned.
    String member = hazelcast.getCluster().getLocalMember().getUuid().toString();
    List<String> deployments = new ArrayList<>();
    deployments.add(vertx.deployVerticle(new LivePublisher(cluster, config.live().listenerCacheMs(), metrics)).await());
    deployments.add(vertx.deployVerticle(new EventStoreVerticle(config.store(), member, config.webhook().leaseSeconds(),
        Pools.write(vertx, config.pg(), pg), detectors, metrics)).await());
    for (int shard = 0; shard < config.detect().shardsPerNode(); shard++) {
      deployments.add(vertx.deployVerticle(new DetectorVerticle(shard, detect, detectors)).await());
    }
    deployments.add(vertx.deployVerticle(new SchedulerVerticle(config, pg, hazelcast, detectors)).await());
    deployments.add(vertx.deployVerticle(new DeliveryVerticle(config.webhook(), queryPool,
        new Partners(queryPool, secrets), member, metrics)).await());
    // What the cluster table shows for this member; its API is reached at the member's cluster address
    // when it listens on every interface.
    String httpHost = config.http().host().equals("0.0.0.0") ? config.cluster().host() : config.http().host();
    deployments.add(vertx.deployVerticle(new MemberStatusVerticle(hazelcast, "http://" + httpHost + ":" + port, readiness,
        detect.stats(), queryPool)).await());
    deployments.add(vertx.deployVerticle(new CacheSyncVerticle(api.credentials(), detect.settings(),
        config.auth().cacheSeconds())).await());
    deployments.add(vertx.deployVerticle(new RateLimitVerticle(api.limiter(), hazelcast)).await());
    int instances = config.http().instances() > 0 ? config.http().instances() : Runtime.getRuntime().availableProcessors();
    List<ApiVerticle> apiVerticles = new CopyOnWriteArrayList<>();
    deployments.add(vertx.deployVerticle(() -> {
      ApiVerticle verticle = new ApiVerticle(api);
      apiVerticles.add(verticle);
      return verticle;
    }, new DeploymentOptions().setInstances(instances)).recover(e -> Future.failedFuture(e instanceof BindException
        ? new StartupFailure("HTTP port " + port + " is in use by another process: choose another with --port N "
            + "(http.port, KEYPULSE_HTTP_PORT)", e) : e)).await());
    readiness.serving(true);
    times.done("verticles");
    return new KeyPulseNode(vertx, embedded, watchdog, pg, port, readiness, deployments, adminToken, runtimeMetrics,
        apiVerticles.get(0).router());
  }

  private static VertxOptions vertxOptions(Config config) {
    Config.Cluster cluster = config.cluster();
    return new VertxOptions()
        .setEventBusOptions(new EventBusOptions().setHost(cluster.eventbusHost()).setPort(cluster.eventbusPort())
            .setClusterPublicHost(cluster.eventbusHost()))
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            // Event-bus meters cost a few meter look-ups per message (sent, received, delivered, and a
            // reply handler registered and removed per request): ~5 % of a node's CPU at single-event
            // ingest. KeyPulse's own meters cover what crosses the bus (ingest, flushes, detection lag).
            .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
            // The one HTTP client sends webhooks, which keypulse_webhook_* measure; Vert.x's own meters
            // for it cost ~1.3 % of the node's CPU while webhooks flow (JFR, scripts/bench webhooks).
            .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
            .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_NAME,
                Label.POOL_TYPE)));
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The HTTP route table (every API verticle instance has an identical one). */
  public Router router() {
    return router;
  }

  /** The Postgres this node writes to. */
  public PgTarget pgTarget() {
    return pg;
  }

  public int port() {
    return port;
  }

  public PgTarget pg() {
    return pg;
  }

  public String adminToken() {
    return adminToken;
  }

  /**
   * Graceful stop: /ready turns false, HTTP stops accepting and finishes in-flight requests, the
   * store commits what it accepted, the node leaves the cluster, then the embedded Postgres stops.
   */
  @Override
  public void close() {
    readiness.serving(false);
    try {
      for (int i = deployments.size() - 1; i >= 0; i--) {
        vertx.undeploy(deployments.get(i)).toCompletionStage().toCompletableFuture()
            .get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("node did not stop cleanly", e);
    } finally {
      runtimeMetrics.close();
      stopStore(watchdog, embedded);
    }
    log.info("KeyPulse node stopped");
  }

  /** The watchdog first, or it would start the server again. */
  private static void stopStore(PostgresWatchdog watchdog, EmbeddedPostgres embedded) {
    if (watchdog != null) {
      watchdog.close();
    }
    if (embedded != null) {
      embedded.stop();
    }
  }

  private static String randomToken() {
    byte[] raw = new byte[24];
    new SecureRandom().nextBytes(raw);
    return HexFormat.of().formatHex(raw);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
