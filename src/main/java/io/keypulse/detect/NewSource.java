package io.keypulse.detect;

import java.util.List;
import java.util.Set;

/**
 * new_source_ip / new_actor: an access, export or signing from an IP (or by an actor) never seen
 * for the key, once the key has 20 events of history. An export from a new IP is critical.
 */
final class NewSource implements Detector {
  private static final Set<String> WATCHED = Set.of("access", "export", "sign");
  private final boolean ip;

  private NewSource(boolean ip) {
    this.ip = ip;
  }

  static NewSource ip() {
    return new NewSource(true);
  }

  static NewSource actor() {
    return new NewSource(false);
  }

  @Override
  public void check(Observation o, List<Finding> found) {
    String value = ip ? o.event().sourceIp() : o.event().actor();
    boolean known = ip ? o.ipKnown() : o.actorKnown();
    if (value == null || known || !WATCHED.contains(String.valueOf(o.event().canonicalType()))
        || o.historyBefore() < o.policy().newSourceMinHistory()) {
      return;
    }
    boolean export = o.is("export");
    String what = ip ? "IP " + value : "actor '" + value + "'";
    String verb = export ? "Export" : o.is("sign") ? "Signing" : "Access";
    int seen = ip ? o.state().ips.size() - 1 : o.state().actors.size() - 1;
    found.add(Finding.anomaly(ip ? "new_source_ip" : "new_actor", ip && export,
        verb + " from new " + what + " (" + seen + " known, " + o.historyBefore() + " events of history)",
        Finding.evidence(seen, value, "not among the last " + KeyState.SEEN_LIMIT + " seen", "key history")
            .put("history_events", o.historyBefore())));
  }
}
