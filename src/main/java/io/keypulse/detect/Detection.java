package io.keypulse.detect;

import io.vertx.core.Future;

/** What detecting one event produced: its new alerts and score, and when they are committed. */
record Detection(int newAlerts, double score, Future<Void> committed) {
  static final Detection NONE = new Detection(0, 0, Future.succeededFuture());
}
