package io.keypulse.api;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every malformed exception is a 400 that names the problem, and stores nothing. */
@DisplayName("Creating an exception with bad input")
class ExemptionValidationTest extends NodeTest {
  private Partner partner;

  record Case(String name, String body, String messageHint) {
    @Override
    public String toString() {
      return name;
    }
  }

  @BeforeAll
  void register() {
    partner = api.register("Validation");
  }

  static Stream<Case> cases() {
    String future = Instant.now().plusSeconds(86_400).toString();
    return Stream.of(
        new Case("no rule", "{\"reason\":\"r\"}", "rule is required"),
        new Case("rule not a string", "{\"rule\":7,\"reason\":\"r\"}", "rule is required"),
        new Case("a rule nobody has", "{\"rule\":\"made_up\",\"reason\":\"r\"}", "made_up is neither"),
        new Case("no reason", "{\"rule\":\"new_actor\"}", "reason is required"),
        new Case("blank reason", "{\"rule\":\"new_actor\",\"reason\":\"   \"}", "reason is required"),
        new Case("reason of 501 characters", body("reason", "r".repeat(501)), "1 to 500"),
        new Case("NUL in the reason", "{\"rule\":\"new_actor\",\"reason\":\"a\\u0000b\"}", "reason contains a NUL"),
        new Case("line break in the reason", "{\"rule\":\"new_actor\",\"reason\":\"a\\nb\"}", "control characters"),
        new Case("key_id and key_prefix", "{\"rule\":\"new_actor\",\"reason\":\"r\",\"key_id\":\"a\",\"key_prefix\":\"b\"}",
            "exclude each other"),
        new Case("empty key_id", body("key_id", ""), "key_id must be"),
        new Case("key_id of 129 characters", body("key_id", "k".repeat(129)), "1 to 128"),
        new Case("control character in key_prefix", body("key_prefix", "hot\u0007"), "key_prefix must be"),
        new Case("lone surrogate in the actor", "{\"rule\":\"new_actor\",\"reason\":\"r\",\"actor\":\"a\\ud800\"}",
            "actor contains a NUL character or invalid Unicode"),
        new Case("actor of 257 characters", body("actor", "a".repeat(257)), "1 to 256"),
        new Case("not an address", body("source_ip_cidr", "intranet"), "source_ip_cidr must be"),
        new Case("IPv4 prefix 33", body("source_ip_cidr", "10.0.0.0/33"), "prefix must be 0 to 32"),
        new Case("IPv6 prefix 129", body("source_ip_cidr", "2001:db8::/129"), "prefix must be 0 to 128"),
        new Case("prefix not a number", body("source_ip_cidr", "10.0.0.0/x"), "bad prefix"),
        new Case("range as a number", "{\"rule\":\"new_actor\",\"reason\":\"r\",\"source_ip_cidr\":10}",
            "source_ip_cidr must be"),
        new Case("expiry not a date", body("expires_at", "tomorrow"), "ISO-8601"),
        new Case("expiry in the past", body("expires_at", "2020-01-01T00:00:00Z"), "in the future"),
        new Case("expiry past the year 9999", body("expires_at", "+10000-01-01T00:00:00Z"), "in the future"),
        new Case("unknown fields", "{\"rule\":\"new_actor\",\"reason\":\"r\",\"colour\":1,\"ip\":\"x\"}",
            "unknown fields colour, ip"),
        new Case("expires_in instead of expires_at", body("expires_in", future), "unknown field expires_in"),
        new Case("an array", "[]", "JSON object"),
        new Case("malformed JSON", "{\"rule\":", "malformed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("is a 400 with a message that says what is wrong, and nothing is stored")
  void refused(Case c) {
    Reply r = api.send("POST", "/api/v1/exceptions", "application/json", c.body().getBytes(StandardCharsets.UTF_8),
        key(partner.apiKey()));
    assertThat(r.status()).as(r.raw()).isEqualTo(400);
    assertThat(r.json().getBoolean("success")).isFalse();
    assertThat(r.json().getString("message")).contains(c.messageHint());
    assertThat(db.count("SELECT count(*) FROM exemptions")).isZero();
  }

  @Test
  @DisplayName("a body that is not JSON is a 415, and without a key a 401")
  void mediaTypeAndAuth() {
    byte[] body = body("actor", "ops").getBytes(StandardCharsets.UTF_8);
    assertThat(api.send("POST", "/api/v1/exceptions", "text/plain", body, key(partner.apiKey())).status())
        .isEqualTo(415);
    assertThat(api.send("POST", "/api/v1/exceptions", "application/json", body).status()).isEqualTo(401);
    assertThat(api.get("/api/v1/exceptions").status()).isEqualTo(401);
    assertThat(db.count("SELECT count(*) FROM exemptions")).isZero();
  }

  /** A valid new_actor exception with one field added or replaced. */
  private static String body(String field, String value) {
    return new JsonObject().put("rule", "new_actor").put("reason", "known batch job").put(field, value).encode();
  }
}
