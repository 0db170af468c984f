package io.keypulse.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Text")
class TextTest {

  @Test
  @DisplayName("utf8Length counts what getBytes(UTF-8) would produce, for every width of character")
  void utf8Length() {
    for (String s : List.of("", "a", "é", "€", "😀", "a€😀é\u0000\u007f\u0080\u07ff\u0800\uffff", "{\"k\":\"x\"}")) {
      assertThat(Text.utf8Length(s)).as(s).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
    Random random = new Random(7);
    for (int n = 0; n < 2_000; n++) {
      StringBuilder s = new StringBuilder();
      for (int i = random.nextInt(40); i > 0; i--) {
        int cp = random.nextInt(Character.MAX_CODE_POINT + 1);
        if (!Character.isSurrogate((char) cp) || cp > 0xffff) {
          s.appendCodePoint(cp);
        }
      }
      String text = s.toString();
      assertThat(Text.utf8Length(text)).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
    }
  }
}
