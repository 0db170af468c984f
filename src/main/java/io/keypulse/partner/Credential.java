package io.keypulse.partner;

/**
 * What an API key grants, as looked up by its hash.
 *
 * @param keyStatus      active | revoked
 * @param partnerStatus  active | suspended
 * @param ratePerMinute  the partner's plan per key, or null for the node default
 * @param partnerPerMinute the plan's ceiling over all the partner's keys, or null for the default
 *                         (rate_limit.partner_multiplier times the per-key limit)
 */
public record Credential(long keyId, String partnerId, String keyStatus, String partnerStatus, Integer ratePerMinute,
                         Integer partnerPerMinute) {}
