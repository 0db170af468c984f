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
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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

  private final Vertx vertx;
  private final OpenAPIContract contract;
  private final ResponseValidator validator;

  private Contract() {
    vertx = Vertx.vertx();
    contract = OpenAPIContract.from(vertx, FILE.toString()).await();
    validator = ResponseValidator.create(vertx, contract);
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
  static void check(String method, URI uri, Api.Reply reply) {
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
    if (response.getContent().isEmpty()) {
      return;
    }
    if (contentType == null || !response.getContent().containsKey(contentType)) {
      throw new AssertionError(what + " with Content-Type " + contentType + ", which " + operation.getOperationId()
          + " does not declare for it");
    }
    if (!contentType.equals("application/json")) {
      return;
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
