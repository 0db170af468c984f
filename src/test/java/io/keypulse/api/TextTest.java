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

  @Test
  @DisplayName("printable: any script, emoji sequences and the joiners pass; controls, invisible format characters, "
      + "separators and lone surrogates do not")
  void printable() {
    for (String s : List.of("hsm-key-01", "Zo\u00eb's wallet", "\u05d7\u05e9\u05d1\u05d5\u05df", "\u0645\u0641\u062a\u0627\u062d",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0915\u094d\u200d\u0937", "\ud83d\udc69\u200d\ud83d\udcbb ops",
        "\ud83c\uddea\ud83c\uddfa custody", "key/with spaces & symbols!", "\ue000 private use")) {
      assertThat(Text.printable(s)).as(s).isTrue();
    }
    for (String s : List.of("a\u0000b", "a\tb", "a\u007fb", "a\u0085b", "evil\u202egnp.exe", "a\u2066b\u2069", "a\u200fb",
        "key\u200b1", "\ufeffkey", "soft\u00adhyphen", "a\u2060b", "a\u2028b", "a\u2029b", "a\udb40\udc41b", "a\ud800b",
        "\udc00b", "a\ud800")) {
      assertThat(Text.printable(s)).as(s.chars().mapToObj(Integer::toHexString).toList().toString()).isFalse();
    }
  }
}
