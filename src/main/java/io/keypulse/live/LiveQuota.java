package io.keypulse.live;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Live connections (SSE streams and bridge sockets) per partner on this node, shared by the HTTP
 * verticle instances: one partner, or one leaked token, cannot hold the node's sockets and memory.
 */
public final class LiveQuota {
  private final int perPartner;
  private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

  public LiveQuota(int perPartner) {
    this.perPartner = perPartner;
  }

  public int perPartner() {
    return perPartner;
  }

  /** Takes a place for one more connection of the partner; false when it holds them all. */
  public boolean acquire(String partnerId) {
    boolean[] taken = new boolean[1];
    open.compute(partnerId, (p, n) -> {
      int count = n == null ? 0 : n;
      taken[0] = count < perPartner;
      return taken[0] ? count + 1 : n;
    });
    return taken[0];
  }

  public void release(String partnerId) {
    open.computeIfPresent(partnerId, (p, n) -> n <= 1 ? null : n - 1);
  }
}
