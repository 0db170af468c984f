package io.keypulse.ops;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The API's contract, src/main/resources/openapi/keypulse.yaml, served as written (/openapi.yaml),
 * as JSON (/openapi.json, converted once, at start-up) and browsable (/docs, Swagger UI from its WebJar,
 * which /webjars serves).
 */
public final class ApiDescription {
  public static final String RESOURCE = "openapi/keypulse.yaml";
  private static final String DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      + "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private final String yaml;
  private final String json;

  private ApiDescription(String yaml) {
    this.yaml = yaml;
    Map<String, Object> parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    this.json = new JsonObject(parsed).encode();
  }

  /** Read from the classpath once per node; a missing or broken description fails the start. */
  public static ApiDescription load() {
    try (InputStream in = ApiDescription.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      return new ApiDescription(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void mount(Router router) {
    router.get("/openapi.json").handler(ctx -> send(ctx, "application/json", json));
    router.get("/openapi.yaml").handler(ctx -> send(ctx, "application/yaml", yaml));
    router.get("/docs").handler(ctx -> ctx.reroute("/docs/index.html"));
    router.route("/docs/*").handler(ApiDescription::secure)
        .handler(StaticHandler.create("webroot/docs").setCachingEnabled(false));
  }

  private static void send(RoutingContext ctx, String contentType, String body) {
    ctx.response().putHeader("Content-Type", contentType).putHeader("Access-Control-Allow-Origin", "*").end(body);
  }

  private static void secure(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", DOCS_CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
