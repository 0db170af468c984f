package io.keypulse.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.XmlConfigBuilder;
import io.keypulse.config.Config.Cluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Hazelcast's configuration: cluster.xml as the base, this node's name, address and members on top. */
public final class ClusterSetup {
  private ClusterSetup() {}

  public static Config hazelcast(Cluster cluster) {
    Config config = base();
    config.setClusterName(cluster.name());
    config.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).setInterfaces(List.of(cluster.host()));
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> members = cluster.members().isEmpty() ? List.of(cluster.host() + ":" + cluster.port()) : cluster.members();
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return config;
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
