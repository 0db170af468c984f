package io.keypulse.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Versioned schema from src/main/resources/db/migration, applied at start-up before any verticle runs. */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /** Blocking (JDBC): call from main or a worker, never from an event loop. Returns the schema version. */
  public static String apply(PgTarget target) {
    Flyway flyway = Flyway.configure()
        .dataSource(target.jdbcUrl(), target.user(), target.password())
        .locations("classpath:db/migration")
        // A Postgres starting beside the node gets ~20 s; a wrong URL is then one line naming --pg,
        // not eight minutes of Flyway's default doubling waits (up to 120 s each).
        .connectRetries(10)
        .connectRetriesInterval(2)
        .load();
    MigrateResult result = flyway.migrate();
    // targetSchemaVersion is null when nothing was applied (every start but the first): the schema is
    // then where it was (initialSchemaVersion). Asking flyway.info() instead costs a second scan (~0.3 s).
    String version = result.targetSchemaVersion != null ? result.targetSchemaVersion
        : result.initialSchemaVersion != null ? result.initialSchemaVersion : "none";
    log.info("schema at version {} ({} migrations applied now)", version, result.migrationsExecuted);
    return version;
  }
}
