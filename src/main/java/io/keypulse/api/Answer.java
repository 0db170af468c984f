package io.keypulse.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.ext.web.RoutingContext;

/** A creating request's answer as sent, byte for byte: what an Idempotency-Key records and replays. */
record Answer(int status, Buffer body) {
  static Answer json(int status, Object body) {
    // The encoding RoutingContext.json uses, so an answer reads the same with or without a key.
    return new Answer(status, Json.encodeToBuffer(body));
  }

  void send(RoutingContext ctx) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }
}
