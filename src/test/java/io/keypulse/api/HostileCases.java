package io.keypulse.api;

import static io.keypulse.api.HostileValues.BLANK;
import static io.keypulse.api.HostileValues.EMPTY;
import static io.keypulse.api.HostileValues.ENCODED_HARMLESS;
import static io.keypulse.api.HostileValues.ENCODED_UNPRINTABLE;
import static io.keypulse.api.HostileValues.NOT_A_CHOICE;
import static io.keypulse.api.HostileValues.NOT_A_URL;
import static io.keypulse.api.HostileValues.UNPRINTABLE;
import static io.keypulse.api.HostileValues.UNSTORABLE;
import static io.keypulse.api.HostileValues.URL;
import static io.keypulse.api.HostileValues.values;

import io.keypulse.testing.ClientJson;
import io.keypulse.testing.ClientJson.Raw;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hostile requests of HostileInputTest, generated: every field of every write endpoint given
 * values it must refuse, and every query and path parameter given values it must refuse or answer
 * harmlessly. "{pid}" stands for the test partner's id until the request is sent.
 */
final class HostileCases {
  enum Who { NOBODY, PARTNER, OPERATOR }

  /** @param hint what the error message must contain (the field's name); null: harmless, any answer below 500 */
  record Case(String name, Who who, String method, String path, byte[] body, String hint) {
    boolean mustRefuse() {
      return hint != null;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static final String PID = "{pid}";

  private final List<Case> cases = new ArrayList<>();

  static List<Case> all() {
    HostileCases c = new HostileCases();
    c.bodies();
    c.queries();
    c.paths();
    return List.copyOf(c.cases);
  }

  private void bodies() {
    String past = Instant.now().minus(1, ChronoUnit.HOURS).toString();
    JsonObject v1 = new JsonObject().put("event_type", "key_accessed").put("key_id", "k").put("source_ip", "10.0.0.1")
        .put("actor", "svc").put("severity", "warning").put("occurred_at", past).put("data", new JsonObject()
            .put("ip", "10.0.0.2").put("actor", "ops").put("note", "fine").put("nested", new JsonObject()
                .put("list", new JsonArray().add("x"))));
    JsonObject ref = new JsonObject().put("key_id", "k").put("event_type", "signing_request").put("severity", "nominal")
        .put("source_ip", "10.0.0.1").put("actor", "svc").put("occurred_at", past)
        .put("details", new JsonObject().put("note", "fine").put("list", new JsonArray().add("x")));
    JsonObject hours = new JsonObject().put("timezone", "Europe/Paris").put("days", new JsonArray().add("mon"))
        .put("start", "08:00").put("end", "18:00");

    Body register = body(Who.NOBODY, "POST", "/api/v1/partners/register", new JsonObject().put("name", "Hostile Co"));
    register.printable("name").blank("name").url("webhook_url");
    body(Who.PARTNER, "POST", "/api/v1/api-keys", new JsonObject().put("name", "ci")).printable("name");

    Body ingest = body(Who.PARTNER, "POST", "/api/v1/events/ingest", v1);
    ingest.printable("event_type", "key_id", "actor", "data.actor").empty("event_type").blank("key_id")
        .choice("severity", "source_ip", "occurred_at", "data.ip").storable("data.note", "data.nested.list[0]");
    body(Who.PARTNER, "POST", "/api/v1/events/ingest", new JsonObject().put("data", new JsonArray().add(v1)))
        .printable("data[0].key_id").storable("data[0].data.note");
    Body single = body(Who.PARTNER, "POST", "/api/events", ref);
    single.printable("key_id", "event_type", "actor").blank("key_id").empty("event_type")
        .choice("severity", "source_ip", "occurred_at").storable("details.note", "details.list[0]");
    body(Who.PARTNER, "POST", "/api/events/batch", new JsonObject().put("events", new JsonArray().add(ref)))
        .printable("events[0].key_id", "events[0].actor").storable("events[0].details.note");

    Body key = body(Who.PARTNER, "PATCH", "/api/keys/k", new JsonObject().put("name", "n").put("key_type", "rsa")
        .put("rotation_policy_days", 30).put("business_hours", hours));
    key.printable("name", "key_type").choice("business_hours.timezone", "business_hours.start", "business_hours.end",
        "business_hours.days[0]").unknown("business_hours").numbers("rotation_policy_days", 0, -5, 3651, 2147483648L,
        1.5, "30", new Raw("1e400"));
    Body policy = body(Who.PARTNER, "PUT", "/api/v1/policies", new JsonObject().put("signing_spike_multiplier", 6)
        .put("learning_hours", 24).put("business_hours", hours));
    policy.choice("business_hours.timezone", "business_hours.days[0]").unknown("business_hours").unknown("")
        .numbers("signing_spike_multiplier", -1, 0, 1001, "6", true, new Raw("1e400"))
        .numbers("learning_hours", -1, 721, 2147483648L, 1.5, "24", new Raw("99999999999999999999999"));

    Body threshold = body(Who.PARTNER, "POST", "/api/v1/thresholds", new JsonObject().put("name", "t1")
        .put("event_type", "signing_request").put("key_id", "k").put("threshold", 10).put("window", "1h")
        .put("warn_at_pct", 80));
    threshold.printable("name", "event_type", "key_id").blank("name").empty("event_type").choice("window")
        .numbers("threshold", 0, -1, 2147483648L, 1.5, "10", new Raw("1e400")).numbers("warn_at_pct", 0, 101, 50.5);
    Body exemption = body(Who.PARTNER, "POST", "/api/v1/exceptions", new JsonObject().put("rule", "new_actor")
        .put("key_id", "k").put("source_ip_cidr", "10.0.0.0/8").put("actor", "svc")
        .put("expires_at", Instant.now().plus(30, ChronoUnit.DAYS).toString()).put("reason", "maintenance"));
    exemption.printable("rule", "key_id", "actor", "reason").blank("rule", "reason")
        .choice("source_ip_cidr", "expires_at");
    body(Who.PARTNER, "POST", "/api/v1/exceptions", new JsonObject().put("rule", "new_actor").put("key_prefix", "k-")
        .put("reason", "fleet")).printable("key_prefix");
    Body rule = body(Who.PARTNER, "POST", "/api/v1/rules", new JsonObject().put("name", "r1")
        .put("event_type_match", "key_accessed").put("webhook_url", URL).put("severity", "warning"));
    rule.printable("name", "event_type_match").blank("name", "event_type_match").choice("severity").url("webhook_url");
    body(Who.PARTNER, "PUT", "/api/v1/partners/webhook", new JsonObject().put("url", URL)).url("url");
    body(Who.PARTNER, "POST", "/api/v1/webhooks/test", new JsonObject().put("url", URL)).url("url");
    body(Who.PARTNER, "POST", "/api/alerts/1/ack", new JsonObject().put("resolution", "benign").put("note", "fine"))
        .choice("resolution").storable("note").values("note", values("BEL", "a\u0007b", "an ESC sequence", "\u001b[2J",
            "70 000 characters", "n".repeat(70_000)));

    body(Who.OPERATOR, "PUT", "/admin/partners/" + PID + "/plan", new JsonObject().put("rate_limit_per_min", 50))
        .numbers("rate_limit_per_min", 0, -1, 2147483648L, 1.5, "50", true, new Raw("1e400"));
    body(Who.OPERATOR, "PUT", "/admin/partners/" + PID + "/status", new JsonObject().put("status", "active"))
        .choice("status");
    body(Who.OPERATOR, "POST", "/admin/partners/" + PID + "/keys", new JsonObject().put("name", "ops"))
        .printable("name");
    body(Who.OPERATOR, "POST", "/admin/deliveries/replay", new JsonObject().put("partner_id", PID)
        .put("since", "2026-01-01T00:00:00Z").put("limit", 10))
        .printable("partner_id").choice("since").numbers("limit", 0, -1, 10_001, 1.5, "10");
  }

  private void queries() {
    query(Who.PARTNER, "/api/events", "key_id", "event_type", "severity", "since", "until", "before_id", "limit");
    query(Who.PARTNER, "/api/keys", "after_id", "limit");
    query(Who.PARTNER, "/api/alerts", "key_id", "rule", "severity", "status", "before_id", "limit");
    query(Who.PARTNER, "/api/v1/rules", "include_inactive");
    query(Who.PARTNER, "/api/v1/webhooks/deliveries", "status", "rule_id", "before_id", "limit");
    query(Who.OPERATOR, "/admin/partners", "after_id");
    query(Who.OPERATOR, "/admin/cluster/owner?key_id=k", "partner_id");
    query(Who.OPERATOR, "/admin/cluster/owner?partner_id=" + PID, "key_id");
    // A stream that opens never answers: only values it must refuse (an empty since_id starts live).
    for (Map.Entry<String, String> v : ENCODED_UNPRINTABLE.entrySet()) {
      add("GET /api/events/stream since_id: " + v.getKey(), Who.PARTNER, "GET",
          "/api/events/stream?since_id=" + v.getValue(), null, "since_id");
      add("GET /api/events/stream token: " + v.getKey(), Who.NOBODY, "GET",
          "/api/events/stream?token=" + v.getValue(), null, "token");
    }
  }

  private void paths() {
    path(Who.PARTNER, "GET", "/api/keys/%s/activity", "key_id", null);
    path(Who.PARTNER, "PATCH", "/api/keys/%s", "key_id", new JsonObject().put("name", "n"));
    path(Who.PARTNER, "DELETE", "/api/v1/api-keys/%s", "id", null);
    path(Who.PARTNER, "DELETE", "/api/v1/thresholds/%s", "id", null);
    path(Who.PARTNER, "GET", "/api/v1/exceptions/%s", "id", null);
    path(Who.PARTNER, "DELETE", "/api/v1/exceptions/%s", "id", null);
    path(Who.PARTNER, "DELETE", "/api/v1/rules/%s", "id", null);
    path(Who.PARTNER, "GET", "/api/v1/webhooks/deliveries/%s", "id", null);
    path(Who.PARTNER, "POST", "/api/v1/webhooks/deliveries/%s/replay", "id", null);
    path(Who.PARTNER, "POST", "/api/alerts/%s/ack", "id", null);
    path(Who.OPERATOR, "PUT", "/admin/partners/%s/plan", "id", new JsonObject().put("rate_limit_per_min", 50));
    path(Who.OPERATOR, "PUT", "/admin/partners/%s/status", "id", new JsonObject().put("status", "active"));
    path(Who.OPERATOR, "POST", "/admin/partners/%s/keys", "id", new JsonObject());
    path(Who.OPERATOR, "DELETE", "/admin/keys/%s", "id", null);
  }

  private void query(Who who, String path, String... params) {
    String joiner = path.contains("?") ? "&" : "?";
    for (String param : params) {
      ENCODED_UNPRINTABLE.forEach((what, value) -> add("GET " + path + " " + param + ": " + what, who, "GET",
          path + joiner + param + "=" + value, null, param));
      ENCODED_HARMLESS.forEach((what, value) -> add("GET " + path + " " + param + ": " + what, who, "GET",
          path + joiner + param + "=" + value, null, null));
      add("GET " + path + " " + param + ": empty", who, "GET", path + joiner + param + "=", null, null);
    }
  }

  private void path(Who who, String method, String template, String param, JsonObject body) {
    byte[] bytes = body == null ? null : ClientJson.encode(body);
    ENCODED_UNPRINTABLE.forEach((what, value) -> add(method + " " + template.formatted("{" + param + "}") + ": " + what,
        who, method, template.formatted(value), bytes, param));
    ENCODED_HARMLESS.forEach((what, value) -> add(method + " " + template.formatted("{" + param + "}") + ": " + what,
        who, method, template.formatted(value), bytes, null));
  }

  private Body body(Who who, String method, String path, JsonObject valid) {
    Body body = new Body(who, method, path, valid);
    body.nesting();
    return body;
  }

  /** One write endpoint with a valid body: each method adds cases that break one field of it. */
  private final class Body {
    private final Who who;
    private final String method;
    private final String path;
    private final JsonObject valid;

    Body(Who who, String method, String path, JsonObject valid) {
      this.who = who;
      this.method = method;
      this.path = path;
      this.valid = valid;
    }

    Body printable(String... fields) {
      return each(fields, UNPRINTABLE);
    }

    Body blank(String... fields) {
      return each(fields, BLANK);
    }

    Body empty(String... fields) {
      return each(fields, EMPTY);
    }

    Body storable(String... fields) {
      return each(fields, UNSTORABLE);
    }

    Body choice(String... fields) {
      return each(fields, NOT_A_CHOICE);
    }

    Body url(String field) {
      return values(field, NOT_A_URL);
    }

    Body numbers(String field, Object... numbers) {
      Map<String, Object> named = new LinkedHashMap<>();
      for (Object n : numbers) {
        named.put((n instanceof Raw r ? r.json() : n instanceof String s ? "\"" + s + "\"" : String.valueOf(n)), n);
      }
      return values(field, named);
    }

    /** Fields a nested object does not know, one with a NUL in its name ("": at the top). */
    Body unknown(String object) {
      String prefix = object.isEmpty() ? "" : object + ".";
      add(prefix + "an unknown field", prefix + "extra", "x", object.isEmpty() ? "extra" : object + ".extra");
      add(prefix + "a 500 KB unknown field", prefix + "pad", "p".repeat(500_000), "pad");
      add(prefix + "a field name with NUL", prefix + "na\u0000me", "x", object.isEmpty() ? "the body" : object);
      return this;
    }

    Body values(String field, Map<String, Object> values) {
      values.forEach((what, value) -> add(field + ": " + what, field, value, hint(field)));
      return this;
    }

    /** The first field nested far too deep for the parser, and deep but parseable where a value belongs. */
    void nesting() {
      String field = valid.fieldNames().iterator().next();
      add(field + ": nested 5000 deep", field, new Raw("[".repeat(5000) + "]".repeat(5000)), "malformed");
      add(field + ": nested 900 deep", field, new Raw("[".repeat(900) + "]".repeat(900)), field);
    }

    private Body each(String[] fields, Map<String, Object> values) {
      for (String field : fields) {
        values(field, values);
      }
      return this;
    }

    private void add(String what, String field, Object value, String hint) {
      JsonObject body = valid.copy();
      ClientJson.set(body, field, value);
      HostileCases.this.add(method + " " + path + " " + what, who, method, path, ClientJson.encode(body), hint);
    }
  }

  private void add(String name, Who who, String method, String path, byte[] body, String hint) {
    cases.add(new Case(name, who, method, path, body, hint));
  }

  /**
   * What the error message must name: the field, or the free-form object holding it (data,
   * details), whose size limit may speak first.
   */
  private static String hint(String field) {
    for (String container : List.of("data", "details")) {
      if (field.contains(container + ".")) {
        return container;
      }
    }
    return leaf(field);
  }

  private static String leaf(String field) {
    String last = field.substring(field.lastIndexOf('.') + 1);
    return last.contains("[") ? field.substring(0, field.lastIndexOf('[')).replaceAll(".*\\.", "") : last;
  }
}
