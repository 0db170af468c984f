package io.keypulse.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The id the database was given when it was first migrated (V14): the same by every URL that reaches it. */
public final class Installation {
  private Installation() {}

  /** Blocking (JDBC), at start-up after the migrations. */
  public static String id(PgTarget target) {
    try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id::text FROM installation")) {
      if (!rs.next()) {
        throw new IllegalStateException("the installation table is empty");
      }
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the database's installation id: " + e.getMessage(), e);
    }
  }
}
