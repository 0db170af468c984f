package io.keypulse.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A client of the event-bus bridge over one SockJS transport, speaking SockJS's own framing as
 * sockjs-client does in a browser: a session URL per connection, "o", "h", "a[…]" and "c[…]" frames
 * in whatever envelope the transport uses (lines, SSE data, script calls), and sends through
 * xhr_send or jsonp_send. Each message inside is one JSON frame of the bridge protocol.
 */
public final class SockJsClient implements AutoCloseable {
  /** The transports sockjs-client 1.6.1 can use against a server, by the path segment of each. */
  public enum Transport {
    WEBSOCKET("websocket"), XHR_STREAMING("xhr_streaming"), XHR_POLLING("xhr"), EVENTSOURCE("eventsource"),
    HTMLFILE("htmlfile"), JSONP_POLLING("jsonp");

    final String path;

    Transport(String path) {
      this.path = path;
    }
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String CALLBACK = "cb";

  private final Transport transport;
  private final String path;
  private final String session;
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();
  private volatile boolean opened;
  private volatile JsonArray closeFrame;
  private volatile boolean closed;
  private volatile InputStream current;
  private volatile int refusedStatus;
  private WebSocket socket;

  /** Opens a session (base: the node's http:// address) and waits for its "o" frame. */
  public SockJsClient(String base, Transport transport) {
    this.transport = transport;
    this.path = "/eventbus/000/" + UUID.randomUUID().toString().replace("-", "");
    this.session = base + path;
    if (transport == Transport.WEBSOCKET) {
      socket = HTTP.newWebSocketBuilder().buildAsync(URI.create(session.replaceFirst("^http", "ws") + "/websocket"),
          listener()).join();
    } else {
      Thread reader = new Thread(this::receive, "sockjs-" + transport.path);
      reader.setDaemon(true);
      reader.start();
    }
    if (Sleep.poll(() -> opened || refusedStatus != 0 ? true : null, 5000) == null || !opened) {
      close();
      throw new IllegalStateException(transport + ": no open frame (status " + refusedStatus + ")");
    }
  }

  /**
   * Sends one bridge frame as the browser would; the HTTP status of the send (204 for xhr_send,
   * 200 for jsonp_send; 0 over the WebSocket, where there is none).
   */
  public int send(JsonObject frame) {
    String messages = new JsonArray().add(frame.encode()).encode();
    if (transport == Transport.WEBSOCKET) {
      socket.sendText(messages, true).join();
      return 0;
    }
    return transport == Transport.JSONP_POLLING
        ? post("/jsonp_send", "application/x-www-form-urlencoded",
            "d=" + URLEncoder.encode(messages, StandardCharsets.UTF_8)).statusCode()
        : post("/xhr_send", "text/plain;charset=UTF-8", messages).statusCode();
  }

  public int register(String address, String token) {
    JsonObject frame = new JsonObject().put("type", "register").put("address", address);
    if (token != null) {
      frame.put("headers", new JsonObject().put("token", token));
    }
    return send(frame);
  }

  /** The session's path on the node, e.g. /eventbus/000/3f…; a transport's URL is this plus /xhr_send etc. */
  public String path() {
    return path;
  }

  private HttpResponse<String> post(String suffix, String contentType, String body) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(session + suffix)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(transport + " send failed: " + e, e);
    }
  }

  /** Messages delivered on an address ("rec" frames), their bodies. */
  public List<JsonObject> bodies(String address) {
    return received.stream().filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
        .map(f -> f.getJsonObject("body")).toList();
  }

  public List<JsonObject> errors() {
    return received.stream().filter(f -> "err".equals(f.getString("type"))).toList();
  }

  /** The SockJS close frame's [code, reason] once the server closed the session, else null. */
  public JsonArray closeFrame() {
    return closeFrame;
  }

  public JsonObject await(Predicate<JsonObject> match, long timeoutMillis) {
    return Sleep.poll(() -> received.stream().filter(match).findFirst().orElse(null), timeoutMillis);
  }

  /** Receive requests one after another, as sockjs-client does: a poll answers once, a stream until its limit. */
  private void receive() {
    while (!closed) {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(session + "/" + transport.path
          + (transport == Transport.HTMLFILE || transport == Transport.JSONP_POLLING ? "?c=" + CALLBACK : "")));
      boolean post = transport == Transport.XHR_STREAMING || transport == Transport.XHR_POLLING;
      request = post ? request.POST(HttpRequest.BodyPublishers.noBody()) : request.GET();
      try {
        HttpResponse<InputStream> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
          refusedStatus = response.statusCode();
          response.body().close();
          return;
        }
        current = response.body();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(current, StandardCharsets.UTF_8))) {
          for (String line = lines.readLine(); line != null && !closed; line = lines.readLine()) {
            String frame = unwrap(line);
            if (frame != null) {
              frame(frame);
            }
          }
        }
      } catch (IOException | InterruptedException e) {
        if (!closed) {
          refusedStatus = -1;
        }
        return;
      }
    }
  }

  /** The SockJS frame a line of this transport's response carries, or null for envelope lines. */
  private String unwrap(String line) {
    return switch (transport) {
      // The streaming prelude (2048 'h's) is not a frame; a lone "h" is a heartbeat, also ignored.
      case XHR_STREAMING, XHR_POLLING -> line.isEmpty() ? null : line;
      case EVENTSOURCE -> line.startsWith("data: ") ? line.substring(6) : null;
      case HTMLFILE -> line.startsWith("p(\"") && line.endsWith("\");") ? unescape(line, 3, line.length() - 3) : null;
      case JSONP_POLLING -> {
        String head = "/**/" + CALLBACK + "(\"";
        yield line.startsWith(head) && line.endsWith("\");") ? unescape(line, head.length(), line.length() - 3) : null;
      }
      case WEBSOCKET -> line;
    };
  }

  private void frame(String frame) {
    if (frame.equals("o")) {
      opened = true;
    } else if (frame.startsWith("a")) {
      new JsonArray(frame.substring(1)).forEach(m -> received.add(new JsonObject((String) m)));
    } else if (frame.startsWith("c")) {
      closeFrame = new JsonArray(frame.substring(1));
      closed = true;
    }
  }

  /** A JavaScript string literal's content (the server escapes quotes, backslashes, controls and non-ASCII). */
  private static String unescape(String s, int from, int to) {
    StringBuilder out = new StringBuilder();
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char n = s.charAt(++i);
      switch (n) {
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'u' -> {
          out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> out.append(n);
      }
    }
    return out.toString();
  }

  private WebSocket.Listener listener() {
    StringBuilder partial = new StringBuilder();
    return new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          frame(partial.toString());
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        return onText(ws, StandardCharsets.UTF_8.decode(data), last);
      }
    };
  }

  @Override
  public void close() {
    closed = true;
    if (socket != null) {
      socket.abort();
    }
    InputStream stream = current;
    if (stream != null) {
      try {
        stream.close();
      } catch (IOException ignored) {
        // Closing is all that is wanted; the reader thread ends either way.
      }
    }
  }
}
