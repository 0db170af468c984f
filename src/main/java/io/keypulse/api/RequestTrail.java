package io.keypulse.api;

import io.keypulse.bus.RequestIds;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of every request: gives it an id (the client's X-Request-Id when short and plain),
 * answers it as X-Request-Id, and puts it in the MDC around the synchronous part of the handler
 * chain. At DEBUG, one line per answered request; nothing is formatted per request otherwise.
 */
final class RequestTrail implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(RequestTrail.class);
  private static final String KEY = "keypulse.requestId";

  @Override
  public void handle(RoutingContext ctx) {
    String id = RequestIds.accept(ctx.request().getHeader(RequestIds.HTTP_HEADER));
    ctx.put(KEY, id);
    ctx.response().putHeader(RequestIds.HTTP_HEADER, id);
    if (log.isDebugEnabled()) {
      long began = System.nanoTime();
      ctx.addEndHandler(done -> RequestIds.within(id, () -> log.debug("{} {} answered {} in {} ms",
          ctx.request().method(), ctx.request().path(), ctx.response().getStatusCode(),
          (System.nanoTime() - began) / 1_000_000)));
    }
    RequestIds.within(id, ctx::next);
  }

  /** The request's id (null before this handler ran, e.g. for a URI that does not even decode). */
  static String of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /** A handler that runs outside the chain's synchronous part (failure and error handlers), with the id in the MDC. */
  static Handler<RoutingContext> around(Handler<RoutingContext> handler) {
    return ctx -> RequestIds.within(of(ctx), () -> handler.handle(ctx));
  }
}
