package io.keypulse.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("JSON decoded with its numbers' spelling kept")
class ExactJsonTest {

  @Test
  @DisplayName("1e3, 1.50, -0 and -0.0 encode back as written; integers stay Java integers; values read as numbers")
  void spellingKept() {
    String text = "{\"a\":1e3,\"b\":1.50,\"c\":-0,\"d\":-0.0,\"e\":[2.5E-3,{\"f\":7}],\"g\":9007199254740993,"
        + "\"h\":123456789012345678901234567890,\"i\":\"1e3\"}";
    JsonObject json = ExactJson.object(text);
    assertThat(json.encode()).isEqualTo(text);
    assertThat(((JsonObject) ExactJson.decode(Buffer.buffer(text))).encode()).isEqualTo(text);
    assertThat(json.getInteger("a")).isEqualTo(1000);
    assertThat(json.getDouble("b")).isEqualTo(1.5);
    assertThat(json.getJsonArray("e").getJsonObject(1).getValue("f")).isEqualTo(7);
    assertThat(json.getValue("g")).isEqualTo(9007199254740993L);
    assertThat(json.copy().encode()).isEqualTo(text);
  }

  @Test
  @DisplayName("malformed JSON and trailing tokens are refused as Vert.x refuses them")
  void refusals() {
    assertThatThrownBy(() -> ExactJson.object("{\"a\":1.}")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> ExactJson.object("{} {}")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> ExactJson.object("[1e3]")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> ExactJson.object("")).isInstanceOf(DecodeException.class);
  }
}
