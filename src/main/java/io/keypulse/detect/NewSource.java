package io.keypulse.detect;

import java.util.List;
import java.util.Set;

/**
 * new_source_ip / new_actor: an access, export or signing from an IP (or by an actor) never seen
 * for the key, once the key has 20 events of history and its accesses, exports and signings span
 * 24 hours (so its first day shows what is usual for it). An export from a new IP is critical. A new
 * IP inside a network where the key already churns through addresses (new_source_network_churn
 * distinct ones, e.g. autoscaled pods in one /24) is expected; outside every such network it is new.
 * Actors stay exact: a pattern such as svc-signer-&lt;n&gt; cannot be told from an impostor's name.
 */
final class NewSource implements Detector {
  static final Set<String> WATCHED = Set.of("access", "export", "sign");
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
        || o.state().sourcesLearning(o.policy(), o.historyBefore())) {
      return;
    }
    boolean export = o.is("export");
    if (ip && o.networkAddresses() >= o.policy().newSourceNetworkChurn()) {
      found.add(Finding.scoreOnly("new_source_ip", 0.3));
      return;
    }
    String what = ip ? "IP " + value : "actor '" + value + "'";
    String verb = export ? "Export" : o.is("sign") ? "Signing" : "Access";
    int seen = ip ? o.state().ips.size() - 1 : o.state().actors.size() - 1;
    var evidence = Finding.evidence(seen, value, ip ? "an address seen on this key, or one in a network where it uses "
            + o.policy().newSourceNetworkChurn() + "+ addresses" : "an actor seen on this key", "key history")
        .put("history_events", o.historyBefore());
    if (ip) {
      evidence.put("known_networks", o.state().networks.toJson(o.time()));
    }
    found.add(Finding.anomaly(ip ? "new_source_ip" : "new_actor", ip && export,
        verb + " from new " + what + " (" + seen + " known, " + o.historyBefore() + " events of history)", evidence));
  }
}
