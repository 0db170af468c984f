package io.keypulse.bus;

import java.util.List;

/**
 * One flush's rule matches, committed already claimed by the node that wrote them, for that node's
 * delivery actor to send at once: no claim and no read of the event back on a webhook's way out.
 */
public record RuleMatches(List<Match> matches) {

  /**
   * An outbox row as committed.
   *
   * @param rowId      deliveries.id
   * @param deliveryId deliveries.delivery_id, the X-KeyPulse-Delivery a receiver deduplicates on
   * @param endpoint   scheme://host[:port] of the URL, as the table computed it
   * @param requestId  the request that ingested the event, for the attempt's log lines (may be null)
   */
  public record Match(StoredEvent event, long rowId, String deliveryId, long ruleId, String url, String endpoint,
                      String requestId) {}
}
