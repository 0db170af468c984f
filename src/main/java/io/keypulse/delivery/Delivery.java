package io.keypulse.delivery;

/**
 * An outbox row claimed for sending.
 *
 * @param endpoint    scheme://host[:port] of the URL, lower case: what the concurrency limit counts
 * @param attempts    attempts made so far (all of them, across replays)
 * @param attemptBase attempts made before the last replay: the retry budget counts from there
 */
record Delivery(long id, String deliveryId, String partnerId, Long ruleId, Long alertId, Long eventId, String event,
                String url, String endpoint, String payload, int attempts, int attemptBase) {

  Delivery withPayload(String body) {
    return new Delivery(id, deliveryId, partnerId, ruleId, alertId, eventId, event, url, endpoint, body, attempts,
        attemptBase);
  }

  /** X-KeyPulse-Event: rule_match for rule webhooks, else the payload's event. */
  String eventHeader() {
    return event;
  }
}
