package io.keypulse.live;

import io.keypulse.api.HttpProblem;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The bodies of the SockJS fallbacks' sends ({@code POST /eventbus/<server>/<session>/xhr_send} and
 * {@code jsonp_send}): what a browser without a WebSocket sends the bridge. They come before any
 * credential (the register frame inside carries the token), so they are read like the one other
 * keyless write, registration: small and bounded, by the node's upload reader, and then checked
 * here, because SockJS itself answers a malformed send with a bodyless 500.
 */
public final class BridgeSends {
  /** The sends' routes, as SockJS names them; no capturing group, as SockJS reads the session id as param0. */
  public static final String PATH = "/eventbus/[^/.]+/[^/.]+/(?:xhr_send|jsonp_send)";

  /**
   * A send carries a few bridge frames (a registration with its token is under 1 KiB, and the
   * bridge accepts nothing but registrations and pings); no honest client needs more.
   */
  public static final long MAX_BYTES = 16 * 1024;

  /** The polling transports' receive requests (xhr-polling, jsonp-polling). */
  public static final String POLLS = "/eventbus/[^/.]+/[^/.]+/(?:xhr|jsonp)";

  private static final String FORM = "application/x-www-form-urlencoded";

  private BridgeSends() {}

  /**
   * SockJS closes the connection after each poll's answer without saying so: a client that reuses
   * it for its next poll loses that poll, and the bridge the socket's registrations. Said here.
   */
  public static void lastOnConnection(RoutingContext ctx) {
    ctx.response().putHeader("Connection", "close");
    ctx.next();
  }

  /** Passes a well-formed send on to SockJS; anything else is answered 4xx here. */
  public static void check(RoutingContext ctx) {
    HttpProblem problem = problem(ctx);
    if (problem == null) {
      ctx.next();
    } else {
      ctx.fail(problem);
    }
  }

  /** What is wrong with a send, as SockJS would read it (a jsonp_send's form field d, else the body), or null. */
  private static HttpProblem problem(RoutingContext ctx) {
    String payload = ctx.body().asString();
    if (ctx.request().path().endsWith("/jsonp_send")) {
      String type = ctx.request().getHeader("Content-Type");
      if (FORM.equalsIgnoreCase(type)) {
        payload = payload != null && payload.startsWith("d=") ? formField(payload.substring(2)) : null;
      } else if (!"text/plain".equalsIgnoreCase(type)) {
        return new HttpProblem(415, "a SockJS jsonp_send is " + FORM + " (d=<messages>) or text/plain");
      }
    }
    return payload != null && arrayOfStrings(payload) ? null
        : HttpProblem.badRequest("a SockJS send's messages are a JSON array of strings");
  }

  private static String formField(String encoded) {
    try {
      return URLDecoder.decode(encoded, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean arrayOfStrings(String json) {
    try {
      return new JsonArray(json).stream().allMatch(String.class::isInstance);
    } catch (DecodeException e) {
      return false;
    }
  }
}
