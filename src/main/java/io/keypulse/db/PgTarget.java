package io.keypulse.db;

import io.vertx.pgclient.PgConnectOptions;

/** Where Postgres is, parsed once from a postgresql:// URL, in the two shapes our clients want. */
public record PgTarget(String host, int port, String database, String user, String password) {

  public static PgTarget parse(String url) {
    String uri = url.startsWith("jdbc:") ? url.substring(5) : url;
    PgConnectOptions o;
    try {
      o = PgConnectOptions.fromUri(uri);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("pg.url is not a postgresql:// URL: " + redact(url), e);
    }
    return new PgTarget(o.getHost(), o.getPort(), o.getDatabase(), o.getUser(), o.getPassword());
  }

  /**
   * Statements are prepared once per connection and kept, long ones too (the default keeps only
   * those under 2 KB, and the store's flush statement is longer): parsing and planning it anew took
   * ~1 ms of the ~2.4 ms of database time a flush cost.
   */
  public PgConnectOptions connectOptions() {
    return new PgConnectOptions().setHost(host).setPort(port).setDatabase(database)
        .setUser(user).setPassword(password).setCachePreparedStatements(true)
        .setPreparedStatementCacheSqlFilter(sql -> true);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  public String url() {
    return "postgresql://" + user + ":" + password + "@" + host + ":" + port + "/" + database;
  }

  /** For logs: never print a password. */
  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
  }

  private static String redact(String url) {
    return url.replaceAll("://([^:/@]+):[^@]*@", "://$1:***@");
  }
}
