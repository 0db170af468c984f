package io.keypulse.api;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Map;

/**
 * Reads a request's body, after the caller is known and allowed (the request is paused until
 * here; see {@link ApiVerticle}). Its size is reserved from the node's upload memory first, by
 * Content-Length, or the whole limit when the body is chunked: past it the answer is 503 with
 * Retry-After, before a byte of the body is read.
 */
final class BodyReader implements Handler<RoutingContext> {
  private final ConnectionGuard guard;
  private final long limit;
  private final BodyHandler body;

  BodyReader(ConnectionGuard guard, long limit) {
    this.guard = guard;
    this.limit = limit;
    this.body = BodyHandler.create(false).setBodyLimit(limit);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.request().isEnded()) {
      // No body was announced (so the request was not paused), and none came.
      ctx.next();
      return;
    }
    long needed = expectedSize(ctx);
    if (needed > limit) {
      ctx.fail(new HttpProblem(413, "request body too large: at most " + limit + " bytes"));
      return;
    }
    if (needed > 0) {
      if (!guard.reserveUpload(needed)) {
        ctx.fail(new HttpProblem(503, "the node is reading too many uploads at once; retry shortly",
            Map.of("Retry-After", "1")));
        return;
      }
      ctx.addEndHandler(done -> guard.releaseUpload(needed));
    }
    body.handle(ctx);
  }

  private long expectedSize(RoutingContext ctx) {
    String length = ctx.request().getHeader("Content-Length");
    if (length != null) {
      try {
        return Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        return limit + 1;
      }
    }
    return ctx.request().getHeader("Transfer-Encoding") != null ? limit : 0;
  }
}
