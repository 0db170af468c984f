package io.keypulse.bus;

/** Every event-bus address KeyPulse uses, in one place. Read this to follow an event. */
public final class Addresses {
  private Addresses() {}

  /** HTTP API -> event store on the same node: {@link Append} request, {@link Appended} reply. */
  public static final String STORE_APPEND = "keypulse.store.append";

  /** Event store -> local consumers (detectors, live feed): {@link Committed}, after the commit. */
  public static final String EVENTS_COMMITTED = "keypulse.events.committed";

  /**
   * Any node -> the node owning a rate-limit bucket (the owner of its Hazelcast partition):
   * {@link TakeToken} request, {@link Quota} reply. One address per cluster member.
   */
  public static String rateLimit(String memberUuid) {
    return "keypulse.ratelimit." + memberUuid;
  }

  /** Any node -> every node: {@link CredentialsChanged}, drop cached API keys (revocation, plan change). */
  public static final String CREDENTIALS_CHANGED = "keypulse.auth.changed";
}
