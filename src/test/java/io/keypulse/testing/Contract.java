package io.keypulse.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Response;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The API description (src/main/resources/openapi/keypulse.yaml) as the tests' referee: every answer
 * {@link Api} receives must have a status code its operation declares and a body that matches that
 * response's schema, or the test that received it fails. On by default; -Dkeypulse.contract=off turns it
 * off (say, to see a test's own failure first).
 */
public final class Contract {
  public static final Path FILE = Path.of("src/main/resources/openapi/keypulse.yaml");
  /** Served by SockJS and static handlers, outside the description (which documents their entry points). */
  private static final List<String> UNDESCRIBED = List.of("/eventbus/", "/webjars/", "/dashboard/", "/docs/");
  private static final boolean ON = !"off".equals(System.getProperty("keypulse.contract"));
  private static volatile Contract instance;

  /** What vertx-openapi validates; the rest (metrics, streams, pages, YAML) is checked here by its media type alone. */
  private static final Set<String> VALIDATED_TYPES = Set.of("application/json");

  private final OpenAPIContract contract;
  private final ResponseValidator validator;
  /** "METHOD /path status" → media types vertx-openapi does not take (text/event-stream, text/html, ...). */
  private final Map<String, Set<String>> otherMediaTypes = new HashMap<>();

  private Contract() {
    Vertx vertx = Vertx.vertx();
    contract = OpenAPIContract.from(vertx, withoutOtherMediaTypes(read())).await();
    validator = ResponseValidator.create(vertx, contract);
  }

  /** The description file, parsed as the node parses it. */
  public static JsonObject read() {
    try {
      Map<String, Object> yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(FILE));
      return new JsonObject(yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** vertx-openapi refuses a contract with media types it cannot parse: those are taken out and noted. */
  private JsonObject withoutOtherMediaTypes(JsonObject description) {
    JsonObject paths = description.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        JsonObject responses = item.getJsonObject(method).getJsonObject("responses");
        for (String status : responses.fieldNames()) {
          JsonObject content = responses.getJsonObject(status).getJsonObject("content");
          if (content == null) {
            continue;
          }
          for (String type : Set.copyOf(content.fieldNames())) {
            if (!VALIDATED_TYPES.contains(type)) {
              otherMediaTypes.computeIfAbsent(method.toUpperCase() + " " + path + " " + status, k -> new HashSet<>())
                  .add(type);
              content.remove(type);
            }
          }
        }
      }
    }
    return description;
  }

  public static Contract get() {
    if (instance == null) {
      synchronized (Contract.class) {
        if (instance == null) {
          instance = new Contract();
        }
      }
    }
    return instance;
  }

  public OpenAPIContract description() {
    return contract;
  }

  /** Throws an AssertionError naming the request and the mismatch when the answer breaks the contract. */
  public static void check(String method, URI uri, Api.Reply reply) {
    if (ON) {
      get().verify(method, uri.getRawPath(), reply);
    }
  }

  private void verify(String method, String path, Api.Reply reply) {
    String what = method + " " + path + " answered " + reply.status();
    String contentType = reply.header("Content-Type") == null ? null
        : reply.header("Content-Type").split(";")[0].trim().toLowerCase();
    if ("HEAD".equals(method)) {
      return;
    }
    Operation operation = contract.findOperation(path, HttpMethod.valueOf(method));
    if (operation == null) {
      undescribed(what, path, reply, contentType);
      return;
    }
    Response response = operation.getResponse(reply.status());
    if (response == null) {
      throw new AssertionError(what + ", a status " + operation.getOperationId() + " does not declare: " + reply.raw());
    }
    Set<String> others = otherMediaTypes.getOrDefault(method + " " + operation.getOpenAPIPath() + " " + reply.status(),
        Set.of());
    if (others.contains(contentType) || response.getContent().isEmpty() && others.isEmpty()) {
      return;
    }
    if (contentType == null || !response.getContent().containsKey(contentType)) {
      throw new AssertionError(what + " with Content-Type " + contentType + ", which " + operation.getOperationId()
          + " does not declare for it");
    }
    try {
      validator.validate(ValidatableResponse.create(reply.status(), Buffer.buffer(reply.raw()), contentType),
          operation.getOperationId()).await();
    } catch (RuntimeException e) {
      throw new AssertionError(what + ", which does not match " + operation.getOperationId() + ": " + e.getMessage()
          + "\n  body: " + abbreviated(reply.raw()), e);
    }
  }

  /**
   * No operation for the request: a static asset or SockJS internal, which the description leaves out,
   * or a route the node does not have, whose 404 or 405 must still be the error shape.
   */
  private static void undescribed(String what, String path, Api.Reply reply, String contentType) {
    if (UNDESCRIBED.stream().anyMatch(path::startsWith)) {
      return;
    }
    if (reply.status() < 400) {
      throw new AssertionError(what + ", a route the API description lacks");
    }
    Object body;
    try {
      body = new JsonObject(reply.raw());
    } catch (DecodeException e) {
      body = null;
    }
    if (!(body instanceof JsonObject json) || !Boolean.FALSE.equals(json.getValue("success"))
        || !(json.getValue("message") instanceof String) || !"application/json".equals(contentType)) {
      throw new AssertionError(what + " without the error shape: " + abbreviated(reply.raw()));
    }
  }

  private static String abbreviated(String raw) {
    return raw.length() <= 600 ? raw : raw.substring(0, 600) + "…";
  }

  /** For the route-coverage test: the description's operations as "METHOD /path/{param}". */
  public Map<String, String> operations() {
    Map<String, String> out = new TreeMap<>();
    contract.operations().forEach(op -> out.put(op.getHttpMethod().name() + " " + op.getOpenAPIPath(), op.getOperationId()));
    return out;
  }
}
