package io.keypulse.testing;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A receiver written in JavaScript and run by Node, reporting one JSON line per request. Either
 * src/test/resources/webhooks/node-receiver.js, which verifies signatures as the first product
 * document's snippet does, over JSON.stringify(JSON.parse(body)), and over the raw body; or
 * standard-receiver.js, which verifies with the official Standard Webhooks library (see
 * {@link NodeModules}). Node and npm are test prerequisites (.ci/run installs them).
 */
public final class NodeReceiver implements AutoCloseable {
  private final Process process;
  private final int port;
  private final List<JsonObject> verdicts = new CopyOnWriteArrayList<>();

  public NodeReceiver(String webhookSecret) {
    this(tempCopy("node-receiver.js"), "WEBHOOK_SECRET", webhookSecret);
  }

  /**
   * The Standard Webhooks receiver: a delivery is accepted (200) when it verifies with one of
   * these secrets, else refused (401). Reports {path, id, timestamp, signature, delivery, event,
   * verdicts: [null, or the library's error, per secret], status, body}.
   */
  public static NodeReceiver standardWebhooks(String... secrets) {
    return new NodeReceiver(NodeModules.script("standard-receiver.js"), "WEBHOOK_SECRETS", String.join(" ", secrets));
  }

  private NodeReceiver(Path script, String secretVariable, String secret) {
    try {
      ProcessBuilder pb = new ProcessBuilder(node(), script.toString()).redirectErrorStream(true);
      pb.environment().put(secretVariable, secret);
      process = pb.start();
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String first = out.readLine();
      if (first == null || !first.startsWith("listening ")) {
        throw new IllegalStateException("node receiver did not start: " + first);
      }
      port = Integer.parseInt(first.substring("listening ".length()).trim());
      Thread reader = new Thread(() -> {
        try {
          for (String line = out.readLine(); line != null; line = out.readLine()) {
            verdicts.add(new JsonObject(line));
          }
        } catch (IOException e) {
          // the process ended
        }
      }, "node-receiver-output");
      reader.setDaemon(true);
      reader.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** The reports (node-receiver.js: {path, delivery, event, raw_ok, node_ok, body}) matching which, once there are n (or time is up). */
  public List<JsonObject> await(Predicate<JsonObject> which, int n, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      List<JsonObject> found = verdicts.stream().filter(which).toList();
      if (found.size() >= n || System.currentTimeMillis() > deadline) {
        return found;
      }
      Thread.sleep(20);
    }
  }

  private static Path tempCopy(String resource) {
    try {
      Path script = Files.createTempFile("node-receiver-", ".js");
      script.toFile().deleteOnExit();
      try (var in = NodeReceiver.class.getResourceAsStream("/webhooks/" + resource)) {
        Files.write(script, in.readAllBytes());
      }
      return script;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String node() {
    for (String candidate : List.of("/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    throw new IllegalStateException("Node.js not found: the webhook signature tests need it (apt-get install nodejs; "
        + ".ci/run does this)");
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
