package io.keypulse.bus;

/** Every event-bus address KeyPulse uses, in one place. Read this to follow an event. */
public final class Addresses {
  private Addresses() {}

  /** HTTP API -> event store on the same node: {@link Append} request, {@link Appended} reply. */
  public static final String STORE_APPEND = "keypulse.store.append";

  /** Event store -> its node's live publisher: {@link Committed}, after the commit, scored once detection answered. */
  public static final String EVENTS_COMMITTED = "keypulse.events.committed";

  /**
   * Any node -> the node owning a rate-limit bucket (the owner of its Hazelcast partition):
   * {@link TakeToken} request, {@link Quota} reply. One address per cluster member.
   */
  public static String rateLimit(String memberUuid) {
    return "keypulse.ratelimit." + memberUuid;
  }

  /**
   * Any node -> the detector shard that owns a key (or a partner): {@link DetectEvents} (reply
   * {@link Detected}), {@link ProvisionCheck} (reply {@link ProvisionVerdict}), {@link KeyCommand}.
   * The owner is the owner of the Hazelcast partition of the key; one address per member and shard.
   */
  public static String detect(String memberUuid, int shard) {
    return detectShards(memberUuid) + shard;
  }

  /** What every shard address of one member starts with. */
  public static String detectShards(String memberUuid) {
    return "keypulse.detect." + memberUuid + ".";
  }

  /** A detector shard -> its node's live publisher: {@link AlertRaised}, once the alert is committed. */
  public static final String ALERTS_RAISED = "keypulse.alerts.raised";

  /**
   * Live publisher -> every node's SSE streams and SockJS bridge clients of one partner: a
   * {@link LiveEvents} per committed flush, scored, which listeners receive as the JSON
   * {@code {"events":[...]}} in the shape of GET /api/events.
   */
  public static String liveEvents(String partnerId) {
    return LIVE_PREFIX + partnerId + ".events";
  }

  /** Live publisher -> the same listeners: one JSON alert per message, in the shape of GET /api/alerts. */
  public static String liveAlerts(String partnerId) {
    return LIVE_PREFIX + partnerId + ".alerts";
  }

  /** Every live address, for the bridge's outbound allow-list; whose it is, the bridge checks per client. */
  public static final String LIVE_PATTERN = "keypulse\\.live\\.[^.]+\\.(events|alerts)";

  private static final String LIVE_PREFIX = "keypulse.live.";

  /** API -> every node: {@link PartnerSettingsChanged}, drop the cached policy and thresholds. */
  public static final String PARTNER_SETTINGS_CHANGED = "keypulse.settings.changed";

  /**
   * Event store -> its node's delivery actor: {@link RuleMatches}, outbox rows the flush committed
   * already claimed by this node, to send now. The reply says they were taken; without one (no actor
   * on the node any more) the store hands the rows back to the outbox.
   */
  public static final String DELIVERIES_CLAIMED = "keypulse.deliveries.claimed";

  /** Whoever commits outbox rows -> every node's delivery actor: {@link DeliveriesDue}, look for work now. */
  public static final String DELIVERIES_DUE = "keypulse.deliveries.due";

  /**
   * The admin API -> one member: any message; the reply is that member's line of the cluster table
   * (JSON: its HTTP URL, readiness, partitions, detector keys, outbox backlog, scheduler lead).
   */
  public static String memberStatus(String memberUuid) {
    return "keypulse.admin.status." + memberUuid;
  }

  /** Any node -> every node: {@link CredentialsChanged}, drop cached API keys (revocation, plan change). */
  public static final String CREDENTIALS_CHANGED = "keypulse.auth.changed";
}
