package io.keypulse.api;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import io.keypulse.detect.DetectRouter;
import io.keypulse.detect.DetectStats;
import io.keypulse.live.LiveQuota;
import io.keypulse.live.Sessions;
import io.keypulse.ops.Readiness;
import io.keypulse.partner.SecretBox;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every HTTP verticle instance of a node shares: config, node-wide caches, metrics, secrets.
 * keysInFlight: the Idempotency-Keys of requests this node is still answering (scope + key).
 */
public record ApiSetup(Config config, PgTarget pg, int port, PrometheusMeterRegistry metrics, SecretBox secrets,
                       String adminToken, CredentialCache credentials, RateLimiter limiter,
                       HazelcastInstance hazelcast, Readiness readiness, Clock clock, DetectRouter detectors,
                       DetectStats detectStats, Sessions sessions, AtomicInteger liveStreams,
                       LiveQuota liveQuota, ConnectionGuard connections, Set<String> keysInFlight) {}
