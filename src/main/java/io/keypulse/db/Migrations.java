package io.keypulse.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Versioned schema from src/main/resources/db/migration, applied at start-up before any verticle runs. */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /** Blocking (JDBC): call from main or a worker, never from an event loop. */
  public static void apply(PgTarget target) {
    MigrateResult result = Flyway.configure()
        .dataSource(target.jdbcUrl(), target.user(), target.password())
        .locations("classpath:db/migration")
        .connectRetries(10)
        .load()
        .migrate();
    log.info("schema at version {} ({} migrations applied now)", result.targetSchemaVersion, result.migrationsExecuted);
  }
}
