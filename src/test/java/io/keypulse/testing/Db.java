package io.keypulse.testing;

import io.keypulse.db.Migrations;
import io.keypulse.db.PgTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Direct reads of the database, to check what a response claims against what is stored. */
public final class Db {
  private final PgTarget target;

  public Db(PgTarget target) {
    this.target = target;
  }

  /** For tests below the API: a fresh database, migrated, holding one partner (no webhook secret). */
  public static Db migratedWithPartner(String partnerId) {
    PgTarget pg = TestPostgres.freshDatabase();
    Migrations.apply(pg);
    Db db = new Db(pg);
    db.execute("INSERT INTO partners (id, name, webhook_secret_enc) VALUES ('" + partnerId + "', '" + partnerId
        + "', '\\x00')");
    return db;
  }

  public PgTarget target() {
    return target;
  }

  /** A connection of the caller's own, for many reads in a row (each other method opens one per call). */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
  }

  public long count(String sql, Object... args) {
    return this.<Long>column(sql, args).get(0);
  }

  @SuppressWarnings("unchecked")
  public <T> List<T> column(String sql, Object... args) {
    try (Connection conn = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
         PreparedStatement st = conn.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      List<T> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add((T) rs.getObject(1));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  public void execute(String sql) {
    try (Connection conn = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password())) {
      conn.createStatement().execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }
}
