package io.keypulse.cluster;

import com.hazelcast.core.HazelcastInstance;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Cluster size and this node's share of the keys, on /metrics: what an operator watches in a rebalance. */
public final class ClusterMetrics {
  private ClusterMetrics() {}

  public static void register(MeterRegistry metrics, HazelcastInstance hazelcast, int shardsPerNode) {
    Gauge.builder("keypulse.cluster.members", hazelcast, h -> h.getCluster().getMembers().size())
        .description("Members of the cluster, as this node sees it").register(metrics);
    Gauge.builder("keypulse.cluster.partitions.owned", hazelcast, ClusterMetrics::ownedPartitions)
        .description("Hazelcast partitions (and so key states and rate-limit buckets) this node owns").register(metrics);
    Gauge.builder("keypulse.detect.shards", () -> shardsPerNode)
        .description("Detector shards on this node; each holds the keys of its owned partitions").register(metrics);
  }

  private static double ownedPartitions(HazelcastInstance hazelcast) {
    return hazelcast.getPartitionService().getPartitions().stream()
        .filter(p -> p.getOwner() != null && p.getOwner().localMember()).count();
  }
}
