package io.keypulse.detect;

import io.vertx.core.Future;

/** What detecting one event produced: its new alerts, and when they (with its score) are committed. */
record Detection(int newAlerts, Future<Void> committed) {
  static final Detection NONE = new Detection(0, Future.succeededFuture());
}
