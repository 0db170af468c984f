package io.keypulse.partner;

import java.time.Instant;

/** A partner as operators see it. */
public record PartnerInfo(String id, String name, String status, Integer ratePerMinute, Integer partnerPerMinute,
                          Integer maxActiveKeys, String webhookUrl, Instant createdAt, long activeKeys) {}
