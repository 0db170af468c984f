package io.keypulse.config;

import java.nio.file.Path;
import java.util.List;

/** Every setting of a node, parsed once from conf/keypulse.yaml, the environment and flags. */
public record Config(
    Path dataDir,
    Http http,
    Pg pg,
    Store store,
    Ingest ingest,
    RateLimit rateLimit,
    Auth auth,
    Detect detect,
    Schedule schedule,
    Admin admin,
    Secrets secrets,
    Cluster cluster,
    Webhook webhook,
    Live live,
    Logging logging) {

  /**
   * Connection and request bounds: a client that opens connections and sends nothing, or sends
   * headers or a body slowly, is cut off; request bodies held in memory at once stay under
   * uploadMemoryBytes (beyond it: 503 with Retry-After).
   */
  public record Http(String host, int port, int instances, long bodyLimitBytes, int shutdownGraceSeconds,
                     long registerBodyLimitBytes, int idleTimeoutSeconds, int headerTimeoutSeconds,
                     int bodyTimeoutSeconds, int maxConnections, int maxConnectionsPerIp, long uploadMemoryBytes,
                     int lingerMs, long lingerMaxBytes) {}

  /**
   * An empty url means: run the embedded Postgres under dataDir (and restart it when it dies), with
   * embeddedSettings, its "name=value" server settings (ConfigLoader checks their form).
   */
  public record Pg(String url, int embeddedPort, List<String> embeddedSettings, int queryPoolSize, int writePoolSize,
                   int connectTimeoutMs, int acquireTimeoutMs, int embeddedCheckMs, int restartBackoffMs,
                   int restartBackoffMaxMs) {
    public boolean embedded() {
      return url == null || url.isBlank();
    }
  }

  public record Store(int flushMaxEvents, int flushIntervalMs, int flushesInFlight, int writers,
                      int flushParallelMinEvents, int maxPendingEvents,
                      int appendTimeoutSeconds) {}

  public record Ingest(int maxBatch, int maxDetailsBytes, int maxKeyIdLength, int maxActorLength,
                       long maxFutureSkewSeconds) {}

  /**
   * anonymousPerMin: per client address, for public stats, failed credentials and unknown routes.
   * partnerMultiplier and maxActiveKeys: a partner's ceiling over all its keys is this many times its
   * per-key limit, and it may hold this many active keys, unless its plan says otherwise.
   */
  public record RateLimit(int perMin, int registerPerMin, int adminPerMin, int anonymousPerMin,
                          int partnerMultiplier, int maxActiveKeys, int refusalDelayMs) {}

  /** maxConcurrentLookups: credential look-ups in Postgres at once per node; past it, 503. */
  public record Auth(int cacheSeconds, int negativeCacheSeconds, int maxConcurrentLookups) {}

  public record Detect(int rotationPolicyDays, int learningHours, double signingSpikeMultiplier,
                       double signingSpikeCriticalMultiplier, int signingSpikeMinCount, double offHoursMaxSharePct,
                       int offHoursMinHistory, int newSourceMinHistory, int newSourceNetworkChurn, int newSourceLearningHours,
                       double provisioningSpikeMultiplier,
                       int provisioningSpikeMinCount, int suppressionMinutes, int shardsPerNode, int checkpointSeconds,
                       int idleEvictMinutes, int replyTimeoutMs, int retentionDays, int stateReadsPerShard) {}

  /** retentionDays: finished webhook deliveries (and their attempts) older than this are deleted. */
  public record Schedule(int rotationCheckSeconds, int rescueCheckSeconds, int rescueAfterSeconds,
                         int retentionCheckSeconds, int deliveryRetentionDays) {}

  public record Admin(String token) {}

  public record Secrets(String masterKey) {}

  public record Cluster(String name, String host, int port, List<String> members,
                        String eventbusHost, int eventbusPort) {}

  public record Webhook(List<String> allowedCidrs, int timeoutMs, List<Long> retryDelaysMs, int jitterPct,
                        int perEndpointConcurrency, int maxInFlight, int maxHeld, int pollMs, int claimIntervalMs,
                        int recordIntervalMs, int leaseSeconds,
                        int maxActiveRules, int resolveCacheSeconds, int secretOverlapSeconds) {}

  /**
   * The live feed. An empty jwtSecret means: generate one into data_dir (set it on every node of a
   * cluster so a token from one node opens a stream on another).
   */
  public record Live(String jwtSecret, int tokenTtlSeconds, int heartbeatSeconds, int streamBufferBytes,
                     int replayPageSize, int seamBufferEvents, int maxStreamsPerPartner, int listenerCacheMs) {}

  /** format: "plain" or "json"; level: of KeyPulse's own loggers (DEBUG traces each request's stages). */
  public record Logging(String format, String level) {
    public boolean json() {
      return "json".equals(format);
    }
  }
}
