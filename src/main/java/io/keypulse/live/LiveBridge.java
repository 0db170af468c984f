package io.keypulse.live;

import io.keypulse.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * /eventbus: the SockJS event-bus bridge, outbound only. A client registers on its own partner's
 * live addresses with a session token in the register frame's headers ({@code token}, or
 * {@code Authorization: Bearer …}); any other address, a bad or expired token, and every send or
 * publish from the browser are refused. A socket closes when the token it registered with
 * expires: a session lasts no longer than its credential, and the client reconnects with a new one.
 */
public final class LiveBridge {
  private static final int SESSION_EXPIRED = 4001;
  private static final int CREDENTIALS_CHANGED = 4002;

  private final Vertx vertx;
  private final Sessions sessions;
  private final Function<Sessions.Session, Future<Boolean>> admit;
  private final LiveQuota quota;
  /** Sockets holding a place in the partner's live quota (event-loop confined), by partner. */
  private final Map<SockJSSocket, String> counted = new HashMap<>();
  private record Expiry(long timer, long atSeconds, String partnerId) {}

  /** Per socket, its partner and the timer that closes it when its newest token expires. Event-loop confined. */
  private final Map<SockJSSocket, Expiry> expiries = new HashMap<>();

  /**
   * @param admit whether a session's key is in force and has a request left in its budgets: a
   *              socket's first registration counts as one request, as an SSE stream does
   */
  public LiveBridge(Vertx vertx, Sessions sessions, Function<Sessions.Session, Future<Boolean>> admit,
                    LiveQuota quota) {
    this.vertx = vertx;
    this.sessions = sessions;
    this.admit = admit;
    this.quota = quota;
  }

  public Router router() {
    SockJSBridgeOptions options = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(Addresses.LIVE_PATTERN));
    // The iframe transports' page loads SockJS from this node's WebJar, not from Vert.x's default CDN.
    SockJSHandlerOptions sockJs = new SockJSHandlerOptions().setRegisterWriteHandler(false)
        .setLibraryURL(Dashboard.SOCKJS_SCRIPT);
    return SockJSHandler.create(vertx, sockJs).bridge(options, this::handle);
  }

  private void handle(BridgeEvent event) {
    switch (event.type()) {
      case REGISTER -> register(event);
      case SEND, PUBLISH -> event.complete(false);
      case SOCKET_CLOSED -> {
        forget(event.socket());
        String partner = counted.remove(event.socket());
        if (partner != null) {
          quota.release(partner);
        }
        event.complete(true);
      }
      default -> event.complete(true);
    }
  }

  private void register(BridgeEvent event) {
    JsonObject frame = event.getRawMessage();
    String address = frame.getValue("address") instanceof String a ? a : "";
    SockJSSocket socket = event.socket();
    sessions.decode(token(frame)).compose(session -> {
      String partner = session.partnerId();
      boolean own = address.equals(Addresses.liveEvents(partner)) || address.equals(Addresses.liveAlerts(partner));
      if (!own) {
        return Future.succeededFuture(false);
      }
      if (partner.equals(counted.get(socket))) {
        closeAtExpiry(socket, session.expiresAt(), partner);
        return Future.succeededFuture(true);
      }
      return admit.apply(session).map(allowed -> {
        if (!allowed) {
          return false;
        }
        // Two registrations of a new socket can be decided at once: the socket takes one place.
        if (!partner.equals(counted.get(socket))) {
          if (counted.containsKey(socket) || !quota.acquire(partner)) {
            return false;
          }
          counted.put(socket, partner);
        }
        closeAtExpiry(socket, session.expiresAt(), partner);
        return true;
      });
    }).onComplete(decided -> event.complete(decided.succeeded() && decided.result()));
  }

  private static String token(JsonObject frame) {
    if (!(frame.getValue("headers") instanceof JsonObject headers)) {
      return null;
    }
    if (headers.getValue("token") instanceof String token) {
      return token;
    }
    if (headers.getValue("Authorization") instanceof String auth && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).trim();
    }
    return null;
  }

  /** A key of the partner was revoked, or the partner suspended: its sockets close; new tokens decide. */
  public void credentialsChanged(String partnerId) {
    List.copyOf(expiries.entrySet()).stream().filter(e -> e.getValue().partnerId().equals(partnerId))
        .forEach(e -> {
          forget(e.getKey());
          e.getKey().close(CREDENTIALS_CHANGED, "credentials changed");
        });
  }

  private void closeAtExpiry(SockJSSocket socket, long expiresAtSeconds, String partnerId) {
    Expiry current = expiries.get(socket);
    if (current != null && current.atSeconds() >= expiresAtSeconds) {
      return;
    }
    forget(socket);
    long delay = Math.max(1, expiresAtSeconds * 1000 - System.currentTimeMillis());
    long timer = vertx.setTimer(delay, id -> {
      expiries.remove(socket);
      socket.close(SESSION_EXPIRED, "session expired");
    });
    expiries.put(socket, new Expiry(timer, expiresAtSeconds, partnerId));
  }

  private void forget(SockJSSocket socket) {
    Expiry expiry = expiries.remove(socket);
    if (expiry != null) {
      vertx.cancelTimer(expiry.timer());
    }
  }
}
