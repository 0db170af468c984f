package io.keypulse.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Webhook bodies")
class WebhookJsonTest {

  @Test
  @DisplayName("numbers are written as JavaScript writes them back")
  void numbers() {
    assertThat(WebhookJson.number(1.0)).isEqualTo("1");
    assertThat(WebhookJson.number(-0.0)).isEqualTo("0");
    assertThat(WebhookJson.number(42500)).isEqualTo("42500");
    assertThat(WebhookJson.number(0.1)).isEqualTo("0.1");
    assertThat(WebhookJson.number(123.456)).isEqualTo("123.456");
    assertThat(WebhookJson.number(12345678.9)).isEqualTo("12345678.9");
    assertThat(WebhookJson.number(1e21)).isEqualTo("1e+21");
    assertThat(WebhookJson.number(1.5e300)).isEqualTo("1.5e+300");
    assertThat(WebhookJson.number(1e-7)).isEqualTo("1e-7");
    assertThat(WebhookJson.number(-2.5e-8)).isEqualTo("-2.5e-8");
    assertThat(WebhookJson.number(0.000001)).isEqualTo("0.000001");
    assertThat(WebhookJson.number(new BigInteger("123456789012345678901234567890")))
        .isEqualTo("123456789012345678901234567890");
  }

  @Test
  @DisplayName("compact, in field order, escaping only what JSON requires")
  void shape() {
    JsonObject body = new JsonObject().put("event_id", 7).put("metadata", new JsonObject()
        .put("note", "süß ✓ 🔑 \"quoted\" \\ back\nline\u0001").put("list", new JsonArray().add(1.0).add(true).addNull()))
        .put("rule_id", 3L);
    assertThat(WebhookJson.encode(body)).isEqualTo(
        "{\"event_id\":7,\"metadata\":{\"note\":\"süß ✓ 🔑 \\\"quoted\\\" \\\\ back\\nline\\u0001\","
            + "\"list\":[1,true,null]},\"rule_id\":3}");
  }

  @Test
  @DisplayName("object members in the order a JavaScript object keeps them")
  void javascriptKeyOrder() {
    JsonObject body = new JsonObject().put("b", 1).put("10", 2).put("a", 3).put("2", 4).put("01", 5)
        .put("4294967295", 6).put("4294967294", 7);
    assertThat(WebhookJson.encode(body))
        .isEqualTo("{\"2\":4,\"10\":2,\"4294967294\":7,\"b\":1,\"a\":3,\"01\":5,\"4294967295\":6}");
  }

  @Test
  @DisplayName("lone surrogates escaped, pairs kept, as JSON.stringify does")
  void surrogates() {
    assertThat(WebhookJson.encode("a\ud800b\udc00\ud83d\udd11")).isEqualTo("\"a\\ud800b\\udc00\ud83d\udd11\"");
  }
}
