package io.keypulse.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * The JVM and process figures on /metrics (jvm_*, process_*, system_*), from Micrometer's binders.
 * Postgres pool figures come from vertx-micrometer-metrics (vertx_pool_*{pool_type="sql"}), which
 * the pools report to because they are named. Closing stops listening for GC notifications: tests
 * start many nodes in one JVM.
 */
public final class RuntimeMetrics implements AutoCloseable {
  private final JvmGcMetrics gc = new JvmGcMetrics();

  private RuntimeMetrics() {}

  public static RuntimeMetrics bind(MeterRegistry registry) {
    RuntimeMetrics metrics = new RuntimeMetrics();
    new JvmMemoryMetrics().bindTo(registry);
    metrics.gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return metrics;
  }

  @Override
  public void close() {
    gc.close();
  }
}
