package io.keypulse.partner;

/** What registration hands out once: the partner id, its first API key and its webhook secret. */
public record Registration(String partnerId, String apiKey, String webhookSecret) {}
