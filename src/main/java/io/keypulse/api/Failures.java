package io.keypulse.api;

import io.keypulse.db.PgFailures;
import io.keypulse.ops.LogThrottle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler: every error becomes {"success":false,"message":…} with the right status.
 * Postgres or the store being unreachable is a 503 with Retry-After; bytes that are not HTTP are the
 * client's fault, a 400 logged at DEBUG; anything unexpected is a 500 whose id ties the response to
 * the log line.
 */
final class Failures {
  private static final Logger log = LoggerFactory.getLogger(Failures.class);
  private static final LogThrottle THROTTLE = new LogThrottle(log);
  private static final Map<Integer, String> DEFAULT_MESSAGES = Map.of(
      400, "bad request", 401, "missing or invalid API key", 403, "forbidden", 404, "not found",
      405, "method not allowed", 413, "request body too large", 415, "Content-Type must be application/json",
      429, "rate limit exceeded", 503, "service unavailable, retry shortly");
  /** Netty's decoders of what a client sends: the request's framing (chunk sizes) and its query string. */
  private static final Set<String> DECODERS = Set.of(HttpObjectDecoder.class.getName(),
      QueryStringDecoder.class.getName());

  private final MeterRegistry metrics;
  /** Per status; built on first use, then looked up without Micrometer's registry (a flood is all refusals). */
  private final Map<Integer, Counter> rejected = new ConcurrentHashMap<>();

  Failures(MeterRegistry metrics) {
    this.metrics = metrics;
  }

  void handle(RoutingContext ctx) {
    // A refusal waits only if its request was read whole: one whose body is still unread would hold
    // its buffered bytes meanwhile (a flood of stalled uploads then fills the young generation and
    // every collection copies it); it is answered at once instead, and the rest of its body dropped
    // as it comes until its connection closes (ConnectionGuard).
    if (ctx.failure() instanceof HttpProblem p && p.delayMillis() > 0 && ctx.request().isEnded()) {
      ctx.vertx().setTimer(p.delayMillis(), id -> {
        if (!ctx.response().closed()) {
          answer(ctx);
        }
      });
      return;
    }
    answer(ctx);
  }

  private void answer(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    Problem problem = failure == null ? byStatus(ctx.statusCode()) : classify(failure, ctx);
    answer(ctx, problem);
  }

  /**
   * The router's answer when it could not even match a route: the URI does not decode ("%zz" in
   * the path). The client's fault, so a 400 and no ERROR log (Vert.x logs one when no handler is set).
   */
  void malformedUri(RoutingContext ctx) {
    if (ctx.failed()) {
      handle(ctx);
      return;
    }
    log.debug("malformed URI: {}", ctx.request().uri());
    answer(ctx, new Problem(400, "malformed request URI: invalid percent-encoding", Map.of()));
  }

  private void answer(RoutingContext ctx, Problem problem) {
    HttpServerResponse response = ctx.response();
    if (response.closed()) {
      return;
    }
    if (response.headWritten()) {
      response.reset();
      return;
    }
    problem.headers().forEach(response::putHeader);
    if (!ctx.request().isEnded()) {
      // Answered before the body was read (refused before it, or it never came): the connection
      // cannot carry another request, so it closes after this answer (once the client stops sending).
      response.putHeader("Connection", "close");
    }
    rejected.computeIfAbsent(problem.status(), status -> Counter.builder("keypulse.http.rejected")
        .tag("status", String.valueOf(status)).description("Requests answered with an error").register(metrics))
        .increment();
    response.setStatusCode(problem.status()).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("success", false).put("message", problem.message()).encode());
  }

  private record Problem(int status, String message, Map<String, String> headers) {}

  private static Problem byStatus(int status) {
    int code = status >= 400 ? status : 500;
    return new Problem(code, DEFAULT_MESSAGES.getOrDefault(code, "internal error"),
        code == 503 ? Map.of("Retry-After", "2") : Map.of());
  }

  private static Problem classify(Throwable failure, RoutingContext ctx) {
    if (failure instanceof HttpProblem p) {
      return new Problem(p.status(), p.getMessage(), p.headers());
    }
    if (failure instanceof DecodeException) {
      return new Problem(400, "malformed JSON body", Map.of());
    }
    if (failure instanceof HttpException e && e.getStatusCode() >= 400 && e.getStatusCode() < 500) {
      // Vert.x Web's own refusals, such as a query string it cannot decode.
      return new Problem(e.getStatusCode(), e.getPayload() != null ? e.getPayload()
          : DEFAULT_MESSAGES.getOrDefault(e.getStatusCode(), "bad request"), Map.of());
    }
    if (malformedRequest(failure)) {
      log.debug("malformed request on {} {}: {}", ctx.request().method(), ctx.request().path(), failure.toString());
      return new Problem(400, "malformed HTTP request: " + failure.getMessage(), Map.of());
    }
    if (failure instanceof ReplyException reply) {
      return reply(reply, ctx);
    }
    if (PgFailures.unavailable(failure)) {
      THROTTLE.warn("db-unavailable", "answering 503: database unavailable ({})", failure.toString());
      return new Problem(503, "database unavailable, retry shortly", Map.of("Retry-After", "2"));
    }
    if (PgFailures.busy(failure)) {
      THROTTLE.warn("db-busy", "answering 503: every database connection busy and the wait queue full ({})",
          failure.toString());
      return new Problem(503, "service busy, retry shortly", Map.of("Retry-After", "1"));
    }
    if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      return byStatus(ctx.statusCode());
    }
    return internal(failure, ctx);
  }

  /** A failure answered by another actor: it set the status; no handler or no answer means 503. */
  private static Problem reply(ReplyException reply, RoutingContext ctx) {
    return switch (reply.failureType()) {
      case RECIPIENT_FAILURE -> reply.failureCode() == 503
          ? new Problem(503, reply.getMessage(), Map.of("Retry-After", "2"))
          : new Problem(reply.failureCode() >= 400 ? reply.failureCode() : 500, reply.getMessage(), Map.of());
      case NO_HANDLERS, TIMEOUT -> new Problem(503, "service unavailable, retry shortly", Map.of("Retry-After", "2"));
      default -> internal(reply, ctx);
    };
  }

  /**
   * The request could not be read, by the client's doing: the connection closed under it, or Netty's
   * HTTP decoder refused its bytes (a chunk size that is not hex, a "%zz" in a query string read
   * through HttpServerRequest). The decoder's own exceptions are plain NumberFormatException or
   * IllegalArgumentException, so they are told by where they were thrown.
   */
  private static boolean malformedRequest(Throwable failure) {
    if (failure instanceof DecoderException || failure instanceof HttpClosedException) {
      return true;
    }
    for (StackTraceElement frame : failure.getStackTrace()) {
      if (DECODERS.contains(frame.getClassName())) {
        return true;
      }
      if (!frame.getClassName().startsWith("io.netty.")) {
        return false;
      }
    }
    return false;
  }

  /**
   * Logged with its stack trace once per kind (failure class and route) per interval; the rest
   * get a short line: a request that fails the same way a thousand times must not write a thousand
   * stack traces.
   */
  private static Problem internal(Throwable failure, RoutingContext ctx) {
    String id = UUID.randomUUID().toString();
    String kind = failure.getClass().getName() + " " + ctx.request().method() + " " + route(ctx);
    if (THROTTLE.admitTrace(kind)) {
      log.error("internal error {} on {} {}", id, ctx.request().method(), ctx.request().path(), failure);
    } else {
      log.debug("internal error {} on {} {}: {}", id, ctx.request().method(), ctx.request().path(), failure.toString());
    }
    return new Problem(500, "internal error (id " + id + ")", Map.of());
  }

  private static String route(RoutingContext ctx) {
    return ctx.currentRoute() != null && ctx.currentRoute().getPath() != null ? ctx.currentRoute().getPath() : "?";
  }
}
