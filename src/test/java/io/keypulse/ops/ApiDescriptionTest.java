package io.keypulse.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keypulse.live.BridgeSends;
import io.keypulse.testing.Api;
import io.keypulse.testing.Contract;
import io.keypulse.testing.NodeTest;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ApiDescriptionTest extends NodeTest {
  /** Routes that serve files or SockJS's own protocol: the description documents their entry points instead. */
  private static final Set<String> PREFIXES_LEFT_OUT = Set.of("/eventbus/", "/webjars/", "/dashboard/", "/docs/");
  /** SockJS fallbacks' sends and polls (BridgeSends), part of SockJS's protocol under /eventbus. */
  private static final Set<String> REGEXES_LEFT_OUT = Set.of(BridgeSends.PATH, BridgeSends.POLLS);
  /** Regex routes that are a described path: /dashboard with or without its slash. */
  private static final Map<String, String> REGEXES_DESCRIBED = Map.of("/dashboard/?", "GET /dashboard");
  /** Described operations that the router serves through a prefix route: SockJS's entry point. */
  private static final Set<String> SERVED_UNDER_PREFIX = Set.of("GET /eventbus/info");
  private static final Pattern PARAM = Pattern.compile(":([A-Za-z_][A-Za-z0-9_]*)");

  @Test
  @DisplayName("Every route the node serves is in the API description, and every described operation is a route")
  void routesAndDescriptionAgree() {
    Set<String> routes = new TreeSet<>();
    collect(node.router(), "", routes);
    Set<String> described = new TreeSet<>(Contract.get().operations().keySet());
    described.removeAll(SERVED_UNDER_PREFIX);

    assertThat(routes).as("routes the description lacks").isSubsetOf(described);
    assertThat(described).as("described operations the node does not serve").isSubsetOf(routes);
  }

  @Test
  @DisplayName("/openapi.json is the YAML file converted, /openapi.yaml is the file, /docs loads Swagger UI from its WebJar")
  void servesTheDescription() throws Exception {
    Api.Reply json = api.get("/openapi.json");
    assertThat(json.status()).isEqualTo(200);
    assertThat(json.json().getString("openapi")).isEqualTo("3.1.0");
    assertThat(json.json().getJsonObject("paths").fieldNames()).contains("/api/events", "/admin/cluster");
    assertThat(json.json().getJsonObject("webhooks").fieldNames())
        .contains("ruleMatch", "anomalyDetected", "rotationOverdue", "thresholdBreach");
    assertThat(json.json()).isEqualTo(Contract.read());

    Api.Reply yaml = api.get("/openapi.yaml");
    assertThat(yaml.status()).isEqualTo(200);
    assertThat(yaml.raw()).isEqualTo(Files.readString(Contract.FILE));

    Api.Reply docs = api.get("/docs");
    assertThat(docs.status()).isEqualTo(200);
    assertThat(docs.header("Content-Type")).startsWith("text/html");
    Matcher assets = Pattern.compile("(?:src|href)=\"(/[^\"]+)\"").matcher(docs.raw());
    int found = 0;
    while (assets.find()) {
      found++;
      assertThat(api.get(assets.group(1)).status()).as(assets.group(1)).isEqualTo(200);
    }
    assertThat(found).as("the page's scripts and styles").isEqualTo(3);
  }

  @Test
  @DisplayName("The tests' referee fails an answer whose body breaks its schema, whose status is not declared, or an undescribed 200")
  void contractFailsWhatBreaksIt() {
    HttpHeaders json = HttpHeaders.of(Map.of("Content-Type", List.of("application/json")), (name, value) -> true);
    URI stats = URI.create(api.base() + "/api/stats");
    Contract.check("GET", stats, new Api.Reply(200, json,
        "{\"total_keys\":1,\"total_events\":2,\"events_24h\":2,\"severity_breakdown\":{\"nominal\":2,\"warning\":0,\"critical\":0}}"));
    assertThatThrownBy(() -> Contract.check("GET", stats, new Api.Reply(200, json,
        "{\"total_keys\":\"1\",\"total_events\":2,\"events_24h\":2,\"severity_breakdown\":{}}")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("does not match stats");
    assertThatThrownBy(() -> Contract.check("GET", stats, new Api.Reply(201, json, "{}")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("a status stats does not declare");
    assertThatThrownBy(() -> Contract.check("GET", URI.create(api.base() + "/api/nothing"), new Api.Reply(200, json, "{}")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("a route the API description lacks");
    assertThatThrownBy(() -> Contract.check("GET", URI.create(api.base() + "/api/nothing"), new Api.Reply(404, json, "{}")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("without the error shape");
  }

  /** "METHOD /path/{param}" for every route, through sub-routers, minus the explicit exclusions above. */
  private static void collect(Router router, String prefix, Set<String> out) {
    for (Route route : router.getRoutes()) {
      if (route.isRegexPath() && route.getPath() == null) {
        String regex = route.getName();
        if (REGEXES_DESCRIBED.containsKey(regex)) {
          out.add(REGEXES_DESCRIBED.get(regex));
        } else {
          assertThat(REGEXES_LEFT_OUT).as("regex route %s is neither described nor left out", regex).contains(regex);
        }
        continue;
      }
      String path = route.getPath();
      if (path == null) {
        continue; // a handler for every request (body pausing, auth, failures), not a route of its own
      }
      String full = prefix + path;
      if (route.getSubRouter() != null) {
        String mount = full.endsWith("/") ? full.substring(0, full.length() - 1) : full;
        if (!PREFIXES_LEFT_OUT.contains(mount + "/")) {
          collect(route.getSubRouter(), mount, out);
        }
        continue;
      }
      if (PREFIXES_LEFT_OUT.stream().anyMatch(full::startsWith)) {
        continue;
      }
      String openApiPath = PARAM.matcher(full).replaceAll("{$1}");
      Set<HttpMethod> methods = route.methods();
      assertThat(methods).as("route %s answers every method", full).isNotEmpty();
      methods.forEach(m -> out.add(m.name() + " " + openApiPath));
    }
  }
}
