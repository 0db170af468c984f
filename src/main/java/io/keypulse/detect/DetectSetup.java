package io.keypulse.detect;

import com.hazelcast.core.HazelcastInstance;
import io.keypulse.config.Config;
import io.keypulse.db.PgTarget;
import java.time.Clock;

/** What every detector shard of a node shares. */
public record DetectSetup(Config config, PgTarget pg, HazelcastInstance hazelcast, PartnerSettingsCache settings,
                          DetectStats stats, Clock clock) {}
