package io.keypulse.testing;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A client of the SockJS event-bus bridge over its raw WebSocket transport (/eventbus/websocket),
 * where each frame is one JSON message of the bridge protocol: what a browser's SockJS sends,
 * minus SockJS's own framing.
 */
public final class BridgeClient implements AutoCloseable {
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();
  private final WebSocket socket;
  private volatile boolean closed;

  /** base: the node's http:// address. */
  public BridgeClient(String base) {
    StringBuilder partial = new StringBuilder();
    WebSocket.Listener listener = new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          received.add(new JsonObject(partial.toString()));
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }

      /** Over the raw WebSocket transport the bridge writes its JSON as binary frames. */
      @Override
      public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        return onText(ws, StandardCharsets.UTF_8.decode(data), last);
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        closed = true;
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        closed = true;
      }
    };
    socket = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().newWebSocketBuilder()
        .buildAsync(URI.create(base.replaceFirst("^http", "ws") + "/eventbus/websocket"), listener).join();
  }

  public void register(String address, String token) {
    JsonObject frame = new JsonObject().put("type", "register").put("address", address);
    if (token != null) {
      frame.put("headers", new JsonObject().put("token", token));
    }
    send(frame);
  }

  public void send(JsonObject frame) {
    socket.sendText(frame.encode(), true).join();
  }

  public List<JsonObject> received() {
    return List.copyOf(received);
  }

  /** Messages delivered on an address ("rec" frames), their bodies. */
  public List<JsonObject> bodies(String address) {
    return received.stream().filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
        .map(f -> f.getJsonObject("body")).toList();
  }

  public List<JsonObject> errors() {
    return received.stream().filter(f -> "err".equals(f.getString("type"))).toList();
  }

  public boolean closed() {
    return closed;
  }

  public JsonObject await(Predicate<JsonObject> match, long timeoutMillis) {
    return Sleep.poll(() -> received.stream().filter(match).findFirst().orElse(null), timeoutMillis);
  }

  /** Registration is confirmed by nothing in the protocol: a ping round trip shows the frame was handled. */
  public void settle() {
    send(new JsonObject().put("type", "ping"));
    Sleep.millis(300);
  }

  @Override
  public void close() {
    socket.abort();
  }
}
