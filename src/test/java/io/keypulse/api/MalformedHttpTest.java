package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keypulse.testing.NodeTest;
import io.keypulse.testing.Sleep;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Bytes that are not well-formed HTTP, sent over a raw socket: each is the client's fault, answered
 * with the fitting 4xx (JSON where the router answers), and never logged as an error or with a
 * stack trace.
 */
@DisplayName("Malformed HTTP")
class MalformedHttpTest extends NodeTest {
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private String key;

  @BeforeAll
  void partnerAndLog() {
    logged.list = new CopyOnWriteArrayList<>();
    logged.start();
    root().addAppender(logged);
    key = api.register("Malformed").apiKey();
  }

  @AfterAll
  void detach() {
    root().detachAppender(logged);
  }

  /**
   * @param status the answer expected; 0: the body's framing broke (or the client left), and Vert.x
   *               closes the connection at once: the 400 written then is dropped with it (accepted
   *               either way; an ERROR is not)
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  @DisplayName("is answered with a 4xx and logged at most at DEBUG")
  void malformed(String what, String request, int status, boolean json) {
    String answer = exchange(request.replace("{key}", key));
    Sleep.millis(200);

    if (status == 0) {
      assertThat(answer).as(answer).matches("(?s)(|HTTP/1\\.1 400 .*)");
    } else {
      assertThat(answer).as(answer).startsWith("HTTP/1.");
      assertThat(answer.substring(9, 12)).as(answer).isEqualTo(String.valueOf(status));
    }
    if (json) {
      assertThat(answer).contains("\"success\":false");
    }
    assertThat(logged.list.stream().filter(e -> e.getLevel() == Level.ERROR || e.getThrowableProxy() != null)
        .map(ILoggingEvent::getFormattedMessage)).as("errors logged").isEmpty();
  }

  static Stream<Arguments> requests() {
    String ingest = "POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\n";
    String chunked = ingest + "Transfer-Encoding: chunked\r\n\r\n";
    String stats = "GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    String get = " HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n";
    return Stream.of(
        Arguments.of("a chunk size beyond 64 bits", chunked + "FFFFFFFFFFFFFFFFFF\r\nab\r\n", 0, false),
        Arguments.of("a chunk size that is not hex", chunked + "zz\r\nab\r\n", 0, false),
        Arguments.of("a chunk without its CRLF", chunked + "2\r\nabXY\r\n0\r\n\r\n", 0, false),
        Arguments.of("a body cut short", ingest + "Content-Length: 100\r\n\r\n{\"key_id\":", 0, false),
        Arguments.of("a Content-Length that is not a number", ingest + "Content-Length: abc\r\nConnection: close\r\n"
            + "\r\n{}", 400, false),
        Arguments.of("a header line without a colon", stats + "Bad Header\r\n\r\n", 400, false),
        Arguments.of("a NUL in a header", stats + "X-A: a\u0000b\r\n\r\n", 400, false),
        Arguments.of("a 20 KB header", stats + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n", 431, false),
        Arguments.of("a 10 KB request line", "GET /api/stats?" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
            414, false),
        Arguments.of("a request line that is not HTTP", "\u0001\u0002 garbage\r\n\r\n", 400, false),
        Arguments.of("%zz in a path", "GET /api/keys/%zz/activity" + get, 400, true),
        Arguments.of("%zz in an admin path", "PUT /admin/partners/%zz/plan" + get, 400, true),
        Arguments.of("%zz in a query string", "GET /api/events?key_id=%zz" + get, 400, true),
        Arguments.of("a truncated escape in a query string", "GET /api/alerts?rule=%2" + get, 400, true),
        Arguments.of("%zz in the stream's since_id", "GET /api/events/stream?since_id=%zz" + get, 400, true),
        Arguments.of("%zz in the stream's token", "GET /api/events/stream?token=%zz" + get, 400, true),
        Arguments.of("a raw NUL in a query string", "GET /api/events?key_id=a\u0000b" + get, 400, true));
  }

  /** Sends the bytes and reads until the node closes the connection or goes quiet for a second. */
  private String exchange(String request) {
    try (Socket socket = new Socket("127.0.0.1", node.port())) {
      socket.setSoTimeout(1000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[4096];
      try {
        for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
          out.write(buffer, 0, n);
        }
      } catch (SocketTimeoutException | SocketException quiet) {
        // what came so far is the answer
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
