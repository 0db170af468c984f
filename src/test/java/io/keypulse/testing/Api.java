package io.keypulse.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A partner's view of a node: real HTTP over loopback, synchronous, JSON in and out. Every answer is
 * checked against the API description ({@link Contract}).
 */
public final class Api {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  public Api(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  public String base() {
    return base;
  }

  public record Reply(int status, HttpHeaders headers, String raw) {
    public JsonObject json() {
      return new JsonObject(raw);
    }

    public JsonArray array(String field) {
      return json().getJsonArray(field);
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + raw;
    }
  }

  public record Partner(String partnerId, String apiKey, String webhookSecret) {}

  public Partner register(String name) {
    Reply r = post("/api/v1/partners/register", new JsonObject().put("name", name));
    if (r.status() != 201) {
      throw new IllegalStateException("registration failed: " + r);
    }
    JsonObject j = r.json();
    return new Partner(j.getString("partner_id"), j.getString("api_key"), j.getString("webhook_secret"));
  }

  public Reply get(String path, String... headers) {
    return send("GET", path, null, null, headers);
  }

  public Reply post(String path, Object json, String... headers) {
    return send("POST", path, "application/json", bytes(json), headers);
  }

  public Reply put(String path, Object json, String... headers) {
    return send("PUT", path, "application/json", bytes(json), headers);
  }

  public Reply delete(String path, String... headers) {
    return send("DELETE", path, null, null, headers);
  }

  /** Any request, byte for byte: headers come as name, value pairs. */
  public Reply send(String method, String path, String contentType, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      Reply reply = new Reply(r.statusCode(), r.headers(), r.body());
      Contract.check(method, r.uri(), reply);
      return reply;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static String[] key(String apiKey) {
    return new String[] {"X-API-Key", apiKey};
  }

  public static String[] bearer(String apiKey) {
    return new String[] {"Authorization", "Bearer " + apiKey};
  }

  private static byte[] bytes(Object json) {
    if (json == null) {
      return null;
    }
    return (json instanceof String s ? s : json.toString()).getBytes(StandardCharsets.UTF_8);
  }
}
