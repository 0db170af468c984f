package io.keypulse.live;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * /dashboard, the page partners watch, and /webjars, the browser libraries it uses (SockJS,
 * Chart.js), served from their WebJars on the classpath rather than copied into the repository.
 */
public final class Dashboard {
  /** Scripts and styles from this origin only; the page talks to this node and nothing else. */
  private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** The SockJS client the page (and the bridge's iframe transports) load, from its WebJar. */
  static final String SOCKJS_SCRIPT = "/webjars/sockjs-client/1.6.1/dist/sockjs.min.js";

  private Dashboard() {}

  public static void mount(Router router) {
    router.getWithRegex("/dashboard/?").handler(ctx -> ctx.reroute("/dashboard/index.html"));
    router.route("/dashboard/*").handler(Dashboard::secure)
        .handler(StaticHandler.create("webroot/dashboard").setCachingEnabled(false));
    router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars")
        .setMaxAgeSeconds(86_400));
  }

  private static void secure(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
