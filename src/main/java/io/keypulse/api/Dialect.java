package io.keypulse.api;

import io.keypulse.bus.Detected;
import io.keypulse.bus.NewEvent;
import io.keypulse.bus.StoredEvent;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * How one API dialect reads an ingest request and shapes its answer. The ingest path itself
 * (auth, validation rules, group commit, publication) is shared by both.
 */
interface Dialect {
  /** The request's events, validated: all of them, or a 400 naming the first bad one. */
  List<NewEvent> events(JsonObject body, String partnerId);

  int successStatus();

  /** True when the answer reports alerts_triggered, so the request waits for the detectors. */
  boolean waitsForDetection();

  /** @param detected per stored event, the alerts it raised and its score (zeros when not waited for) */
  JsonObject answer(JsonObject body, List<StoredEvent> stored, Detected detected);
}
