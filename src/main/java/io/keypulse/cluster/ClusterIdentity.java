package io.keypulse.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.keypulse.StartupFailure;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every member of one cluster must share, as digests: the admin token, the live-session JWT
 * secret, the master key that seals partners' webhook secrets, and the Postgres they all write to.
 * A member that differs would answer "operator token required" to the cluster's token, reject the
 * session tokens other members mint, fail to open webhook secrets, or write to another database, and
 * nothing would say why. The first member records the digests in the cluster; every later one
 * compares its own before it serves. The digests are labelled SHA-256 of values that are random
 * (or chosen by the operator), never the values, and never leave the cluster's own memory.
 */
public final class ClusterIdentity {
  private static final String MAP = "keypulse.cluster.identity";
  private static final String KEY = "digests";

  /** A shared value, how it is named to an operator, and its digest. */
  record Part(String name, String setting, String digest) {}

  private final List<Part> parts = new ArrayList<>();

  /**
   * @param setting where an operator sets it, named in the refusal (e.g. "admin.token (KEYPULSE_ADMIN_TOKEN)")
   */
  public ClusterIdentity with(String name, String setting, String value) {
    parts.add(new Part(name, setting, digest(name, value)));
    return this;
  }

  /**
   * Records this member's digests if it is the first, else compares them with the cluster's.
   *
   * @throws StartupFailure naming each part that differs and where to set it
   */
  public void claimOrCheck(HazelcastInstance hazelcast) {
    IMap<String, Map<String, String>> identity = hazelcast.getMap(MAP);
    Map<String, String> mine = new LinkedHashMap<>();
    parts.forEach(p -> mine.put(p.name(), p.digest()));
    Map<String, String> cluster = identity.putIfAbsent(KEY, mine);
    if (cluster == null) {
      return;
    }
    List<String> differ = new ArrayList<>();
    for (Part p : parts) {
      String theirs = cluster.get(p.name());
      if (theirs != null && !theirs.equals(p.digest())) {
        differ.add(p.name() + " (" + p.setting() + ")");
      }
    }
    if (!differ.isEmpty()) {
      throw new StartupFailure("refusing to join cluster '" + hazelcast.getConfig().getClusterName() + "': this node's "
          + String.join(", ", differ) + (differ.size() == 1 ? " differs" : " differ")
          + " from the cluster's; start it with the cluster's join file (--join-file) or the same settings");
    }
  }

  static String digest(String name, String value) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(("keypulse cluster identity\0" + name + "\0").getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
