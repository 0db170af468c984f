package io.keypulse.bus;

/**
 * A request's Idempotency-Key, checked unused: whatever the request creates commits together with a
 * row for it (see {@code idempotency_keys}), so that a retry finds either both or neither.
 *
 * @param scope       whose key it is: partner:&lt;id&gt;, or address:&lt;client&gt; for a registration
 * @param requestHash SHA-256 of method, path and body (hex): a retry must send the same request
 * @param status      the status the request answers with (known before the answer for an ingest)
 */
public record IdempotencyClaim(String scope, String key, String requestHash, int status) {
  public IdempotencyClaim answering(int newStatus) {
    return new IdempotencyClaim(scope, key, requestHash, newStatus);
  }
}
