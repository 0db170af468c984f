package io.keypulse.store;

/** The counters behind GET /api/stats, for one partner or for everyone. */
public record Stats(long totalKeys, long totalEvents, long events24h, long nominal, long warning, long critical) {}
