package io.keypulse.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.XmlConfigBuilder;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.PartitionService;
import io.keypulse.config.Config.Cluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Hazelcast's configuration: cluster.xml as the base, this node's name, address and members on top. */
public final class ClusterSetup {
  private ClusterSetup() {}

  public static Config hazelcast(Cluster cluster) {
    Config config = base();
    config.setClusterName(cluster.name());
    config.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).setInterfaces(List.of(cluster.host()));
    // Listen on cluster.host alone (Hazelcast binds every interface by default): a single node on
    // 127.0.0.1 is then unreachable from the network; members elsewhere need cluster.host set to an
    // address they can reach.
    config.setProperty("hazelcast.socket.bind.any", "false");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> members = cluster.members().isEmpty() ? List.of(cluster.host() + ":" + cluster.port()) : cluster.members();
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return config;
  }

  /**
   * Blocks until this member owns partitions and no migration is pending, so that a node that
   * reports itself started also holds its share of keys (shards, rate-limit buckets). Gives up
   * after {@code limit}: a node still serves while a large cluster rebalances.
   */
  public static boolean awaitSettled(HazelcastInstance hazelcast, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    PartitionService partitions = hazelcast.getPartitionService();
    while (System.nanoTime() < deadline) {
      boolean owns = partitions.getPartitions().stream().anyMatch(p -> p.getOwner() != null && p.getOwner().localMember());
      if (owns && partitions.isClusterSafe()) {
        return true;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  /** ./cluster.xml if the working directory has one, else the copy in the jar. */
  private static Config base() {
    Path file = Path.of("cluster.xml");
    try (InputStream in = Files.isRegularFile(file)
        ? Files.newInputStream(file) : ClusterSetup.class.getResourceAsStream("/cluster.xml")) {
      if (in == null) {
        throw new IllegalStateException("cluster.xml is missing");
      }
      return new XmlConfigBuilder(in).build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cluster.xml", e);
    }
  }
}
