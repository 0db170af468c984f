package io.keypulse.partner;

/**
 * What an API key grants, as looked up by its hash.
 *
 * @param keyStatus      active | revoked
 * @param partnerStatus  active | suspended
 * @param ratePerMinute  the partner's plan, or null for the node default
 */
public record Credential(long keyId, String partnerId, String keyStatus, String partnerStatus, Integer ratePerMinute) {}
