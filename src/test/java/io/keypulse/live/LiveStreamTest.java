package io.keypulse.live;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.bus.Addresses;
import io.keypulse.bus.DetectEvents;
import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.BridgeClient;
import io.keypulse.testing.Metrics;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import io.keypulse.testing.SseClient.Frame;
import io.keypulse.testing.SseClient;
import io.keypulse.testing.TestNode;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Live feed over SSE: GET /api/events/stream")
class LiveStreamTest extends NodeTest {

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = TestNode.defaults(pg, "test-" + UUID.randomUUID());
    s.put("live.stream_buffer_bytes", 65_536);
    s.put("live.replay_page_size", 50);
    s.put("live.heartbeat_seconds", 1);
    return s;
  }

  @Test
  @DisplayName("an ingested event reaches the partner's stream within a second, scored; another partner's never does")
  void liveAndIsolated() {
    Partner a = api.register("Stream A");
    Partner b = api.register("Stream B");
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream", key(a.apiKey()))) {
      assertThat(stream.status()).isEqualTo(200);
      ingest(b, "theirs-1");
      long sent = System.nanoTime();
      long id = ingest(a, "mine-1");
      Frame frame = stream.await(f -> f.event().equals("event") && f.data().getLong("id") == id, 5000);
      assertThat(frame).as("own event on the stream").isNotNull();
      assertThat(TimeUnit.NANOSECONDS.toMillis(frame.receivedAt() - sent)).as("ms from ingest to stream")
          .isLessThan(1000);
      assertThat(frame.id()).isEqualTo(Long.toString(id));
      assertThat(frame.data().getString("key_id")).isEqualTo("mine-1");
      assertThat(frame.data().getValue("score")).isInstanceOf(Number.class);
      ingest(b, "theirs-2");
      ingest(a, "mine-2");
      stream.await(f -> "mine-2".equals(f.data().getString("key_id")), 5000);
      assertThat(stream.frames()).extracting(f -> f.data().getString("key_id"))
          .doesNotContain("theirs-1", "theirs-2");
    }
  }

  @Test
  @DisplayName("a partner nobody listens to is not published to; a stream opened right after still gets every event from its 200 on")
  void unheardThenListened() {
    Partner p = api.register("Stream Unheard");
    double unheard = unheardFlushes();
    int sent = 0;
    while (unheardFlushes() == unheard && sent++ < 200) {
      ingest(p, "unheard-" + sent);
    }
    assertThat(unheardFlushes()).as("flushes not published while nobody listened").isGreaterThan(unheard);
    // The node has just been told that nobody listens: its answer stands for live.listener_cache_ms,
    // longer than a stream takes to subscribe. The stream's 200 waits it out.
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()))) {
      assertThat(stream.status()).isEqualTo(200);
      long id = ingest(p, "heard");
      assertThat(stream.await(f -> f.event().equals("event") && f.data().getLong("id") == id, 5000))
          .as("the first event after the 200").isNotNull();
    }
  }

  private double unheardFlushes() {
    return Metrics.sum(api.get("/metrics").raw(), "keypulse_live_flushes_unheard_total");
  }

  @Test
  @DisplayName("an alert arrives as event: alert with a resumable id; resuming from it repeats nothing")
  void alerts() {
    Partner p = api.register("Stream Alerts");
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()))) {
      api.post("/api/events", new JsonObject().put("event_type", "key_deleted").put("key_id", "doomed")
          .put("severity", "critical"), key(p.apiKey()));
      List<Frame> alerts = stream.awaitCount("alert", 2, 5000);
      assertThat(alerts).hasSize(2);
      Frame first = alerts.get(0);
      assertThat(first.data().getString("key_id")).isEqualTo("doomed");
      assertThat(first.data().getString("status")).isEqualTo("open");
      assertThat(first.id()).matches("\\d+:" + first.data().getLong("id"));
      try (SseClient resumed = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey(),
          "Last-Event-ID", first.id())) {
        List<Frame> again = resumed.awaitCount("alert", 1, 3000);
        Sleep.millis(300);
        long eventCursor = Long.parseLong(first.id().split(":")[0]);
        assertThat(resumed.eventIds()).as("only events after the frame's event cursor")
            .allMatch(id -> id > eventCursor);
        assertThat(again).extracting(f -> f.data().getLong("id")).containsExactly(alerts.get(1).data().getLong("id"));
      }
    }
  }

  @Test
  @DisplayName("an event whose severity comes from its score shows live (SSE and bridge) the severity and score "
      + "GET /api/events gives it")
  void liveSeverityAsStored() {
    Partner p = api.register("Stream Severity");
    String token = api.post("/api/v1/auth/token", new JsonObject(), key(p.apiKey())).json().getString("token");
    String address = Addresses.liveEvents(p.partnerId());
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()));
         BridgeClient bridge = new BridgeClient(api.base())) {
      bridge.register(address, token);
      bridge.settle();
      // Partner dialect, no severity, no actor: unauthorized_deletion scores it 0.95, so it is stored critical.
      long deleted = ingest(p, "key_deleted", "sev-doomed");
      long accessed = ingest(p, "key_accessed", "sev-quiet");
      for (long id : List.of(deleted, accessed)) {
        Frame frame = stream.await(f -> f.event().equals("event") && f.data().getLong("id") == id, 5000);
        assertThat(frame).as("event " + id + " on the stream").isNotNull();
        JsonObject bridged = Sleep.poll(() -> bridge.bodies(address).stream()
            .flatMap(b -> b.getJsonArray("events").stream().map(JsonObject.class::cast))
            .filter(e -> e.getLong("id") == id).findFirst().orElse(null), 5000);
        assertThat(bridged).as("event " + id + " on the bridge").isNotNull();
        JsonObject stored = api.get("/api/events?key_id=" + frame.data().getString("key_id"), key(p.apiKey()))
            .json().getJsonArray("events").getJsonObject(0);
        assertSameEvent(frame.data(), stored, "SSE");
        assertSameEvent(bridged, stored, "bridge");
        assertThat(stored.getString("severity")).isEqualTo(id == deleted ? "critical" : "nominal");
      }
      // The deletion's alert too: the same fields and values live as in GET /api/alerts.
      Frame alert = stream.await(f -> f.event().equals("alert") && f.data().getString("key_id").equals("sev-doomed"),
          5000);
      assertThat(alert).as("the deletion's alert on the stream").isNotNull();
      JsonObject storedAlert = api.get("/api/alerts?key_id=sev-doomed", key(p.apiKey())).json().getJsonArray("alerts")
          .getJsonObject(0);
      assertThat(alert.data()).as("SSE alert").isEqualTo(storedAlert);
    }
  }

  /** Field for field as stored, the score included (3 places everywhere). */
  private static void assertSameEvent(JsonObject live, JsonObject stored, String where) {
    assertThat(live).as(where).isEqualTo(stored);
  }

  @Test
  @DisplayName("resuming from the id of an alert that came before any event sends only what the client missed, "
      + "never the partner's history")
  void resumeFromEarlyAlert() {
    Partner p = api.register("Stream Early Alert");
    List<Long> history = new ArrayList<>();
    try (SseClient watcher = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()))) {
      for (int i = 0; i < 20; i++) {
        history.add(ingest(p, "key_accessed", "old-" + i));
      }
      // Every past event has been published before the fresh stream opens: none of it reaches that stream live.
      assertThat(watcher.awaitCount("event", history.size(), 5000)).hasSize(history.size());
    }
    List<Frame> seen = new ArrayList<>();
    long deleted;
    try (SseClient first = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()))) {
      deleted = ingest(p, "key_deleted", "early-doomed");
      // An alert is published before its event is (when detection committed it): usually the first message.
      assertThat(first.await(f -> f.event().equals("alert"), 5000)).as("an alert on the fresh stream").isNotNull();
      for (Frame f : first.frames()) {
        seen.add(f);
        if (f.event().equals("alert")) {
          break;
        }
      }
    }
    Frame alert = seen.get(seen.size() - 1);
    long later = ingest(p, "key_accessed", "after-disconnect");
    try (SseClient second = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey(),
        "Last-Event-ID", alert.id())) {
      assertThat(second.await(f -> f.event().equals("event") && f.data().getLong("id") == later, 5000))
          .as("the event missed while away").isNotNull();
      Sleep.millis(500);
      assertThat(second.eventIds()).as("resumed from " + alert.id() + ": no history")
          .doesNotContainAnyElementsOf(history);
      List<Long> all = new ArrayList<>();
      seen.stream().filter(f -> f.event().equals("event")).forEach(f -> all.add(f.data().getLong("id")));
      all.addAll(second.eventIds());
      assertThat(all).as("no event twice, none lost").doesNotHaveDuplicates().contains(deleted, later);
      assertThat(second.frames("alert")).as("no alert up to the one resumed from")
          .allMatch(f -> f.data().getLong("id") > alert.data().getLong("id"));
    }
  }

  @Test
  @DisplayName("after a disconnect, Last-Event-ID replays exactly the missed events, then goes live, under ingest")
  void resumeWithoutGapOrRepeat() throws Exception {
    Partner p = api.register("Stream Resume");
    int total = 600;
    SseClient first = new SseClient(api.base() + "/api/events/stream", key(p.apiKey()));
    CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
      for (int i = 0; i < total / 5; i++) {
        JsonArray batch = new JsonArray();
        for (int j = 0; j < 5; j++) {
          batch.add(new JsonObject().put("event_type", "signing_operation").put("key_id", "k-" + (i % 7)));
        }
        assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
            .isEqualTo(202);
        Sleep.millis(3);
      }
    });
    first.awaitCount("event", 100, 10_000);
    first.close();
    List<Long> before = first.eventIds();
    Sleep.millis(200);
    try (SseClient second = new SseClient(api.base() + "/api/events/stream", "X-API-Key", p.apiKey(),
        "Last-Event-ID", first.lastId())) {
      load.get(60, TimeUnit.SECONDS);
      second.awaitCount("event", total - before.size(), 15_000);
      Sleep.millis(300);
      List<Long> all = new ArrayList<>(before);
      all.addAll(second.eventIds());
      assertThat(all).as("no event twice").doesNotHaveDuplicates();
      assertThat(all).as("every event, in order").hasSize(total).isSorted();
      assertThat(new HashSet<>(all)).isEqualTo(storedIds(p));
    }
  }

  @Test
  @DisplayName("an event replayed from Postgres before the live feed hears of it is not sent again when it does")
  void replayedBeforeItsLiveRelease() {
    Partner p = api.register("Stream Late Release");
    long first = ingest(p, "early-1");
    // The live feed hears of a flush once detection answered: hold detection up, so that the next
    // event is in Postgres, and replayed, a second before it is published live.
    Handler<DeliveryContext<Object>> slowDetection = ctx -> {
      if (ctx.body() instanceof DetectEvents) {
        node.vertx().setTimer(1500, t -> ctx.next());
      } else {
        ctx.next();
      }
    };
    node.vertx().eventBus().addOutboundInterceptor(slowDetection);
    try {
      long late = ingest(p, "late-1");
      try (SseClient stream = new SseClient(api.base() + "/api/events/stream?since_id=" + first, key(p.apiKey()))) {
        assertThat(stream.awaitCount("event", 1, 3000)).extracting(f -> f.data().getLong("id")).containsExactly(late);
        Sleep.millis(2500);
        assertThat(stream.eventIds()).as("the replayed event, once").containsExactly(late);
        long next = ingest(p, "after-1");
        stream.awaitCount("event", 2, 5000);
        assertThat(stream.eventIds()).containsExactly(late, next);
      }
    } finally {
      node.vertx().eventBus().removeOutboundInterceptor(slowDetection);
    }
  }

  @Test
  @DisplayName("?since_id= resumes too; a malformed resume point is a 400 with the JSON error shape")
  void sinceId() {
    Partner p = api.register("Stream Since");
    long first = ingest(p, "s-1");
    long second = ingest(p, "s-2");
    try (SseClient stream = new SseClient(api.base() + "/api/events/stream?since_id=" + first, key(p.apiKey()))) {
      assertThat(stream.awaitCount("event", 1, 3000)).extracting(f -> f.data().getLong("id")).containsExactly(second);
    }
    for (String bad : List.of("?since_id=abc", "?since_id=-4", "?since_id=1:2:3")) {
      SseClient refused = new SseClient(api.base() + "/api/events/stream" + bad, key(p.apiKey()));
      assertThat(refused.status()).as(bad).isEqualTo(400);
      assertThat(new JsonObject(refused.errorBody()).getBoolean("success")).isFalse();
    }
    assertThat(new SseClient(api.base() + "/api/events/stream").status()).as("no credentials").isEqualTo(401);
  }

  @Test
  @DisplayName("a reader that stops reading is dropped and ingest carries on; a reader that keeps up gets everything")
  void slowReaderDropped() throws IOException {
    Partner p = api.register("Stream Slow");
    String padding = "x".repeat(2000);
    try (Socket stalled = stalledReader(p); SseClient healthy = new SseClient(api.base() + "/api/events/stream",
        key(p.apiKey()))) {
      int batches = 60;
      for (int i = 0; i < batches; i++) {
        JsonArray batch = new JsonArray();
        for (int j = 0; j < 100; j++) {
          batch.add(new JsonObject().put("event_type", "key_accessed").put("key_id", "slow-" + j)
              .put("data", new JsonObject().put("pad", padding)));
        }
        assertThat(api.post("/api/v1/events/ingest", new JsonObject().put("data", batch), key(p.apiKey())).status())
            .isEqualTo(202);
      }
      assertThat(healthy.awaitCount("event", batches * 100, 20_000)).hasSize(batches * 100);
      assertThat(droppedStreams()).as("the stalled stream was dropped").isGreaterThanOrEqualTo(1.0);
      assertThat(healthy.ended()).isFalse();
    }
  }

  @Test
  @DisplayName("an idle stream carries heartbeat comments, so proxies and clients see it alive")
  void heartbeats() throws IOException {
    Partner p = api.register("Stream Idle");
    try (Socket socket = stalledReader(p)) {
      socket.setSoTimeout(3500);
      byte[] buffer = new byte[4096];
      StringBuilder seen = new StringBuilder();
      long end = System.currentTimeMillis() + 2600;
      while (System.currentTimeMillis() < end) {
        int n = socket.getInputStream().read(buffer);
        if (n < 0) {
          break;
        }
        seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
      }
      assertThat(seen.toString().split(": heartbeat\n\n", -1).length - 1).as(seen.toString())
          .isGreaterThanOrEqualTo(2);
    }
  }

  private Socket stalledReader(Partner p) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(1024);
    socket.connect(new InetSocketAddress("127.0.0.1", node.port()), 5000);
    OutputStream out = socket.getOutputStream();
    out.write(("GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + p.apiKey() + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    byte[] head = new byte[12];
    assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(12);
    assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
    return socket;
  }

  private double droppedStreams() {
    for (int i = 0; i < 100; i++) {
      String metrics = api.get("/metrics").raw();
      for (String line : metrics.split("\n")) {
        if (line.startsWith("keypulse_live_streams_dropped_total") && Double.parseDouble(line.split(" ")[1]) >= 1) {
          return Double.parseDouble(line.split(" ")[1]);
        }
      }
      Sleep.millis(100);
    }
    return 0;
  }

  private long ingest(Partner p, String keyId) {
    return ingest(p, "key_accessed", keyId);
  }

  /** Partner dialect, no severity given: the stored one is derived from the score. */
  private long ingest(Partner p, String eventType, String keyId) {
    var reply = api.post("/api/v1/events/ingest", new JsonObject().put("event_type", eventType)
        .put("key_id", keyId), key(p.apiKey()));
    assertThat(reply.status()).isEqualTo(202);
    return Long.parseLong(reply.json().getString("event_id").substring(4));
  }

  private Set<Long> storedIds(Partner p) {
    return new HashSet<>(db.<Long>column("SELECT id FROM events WHERE partner_id = ?", p.partnerId()));
  }
}
