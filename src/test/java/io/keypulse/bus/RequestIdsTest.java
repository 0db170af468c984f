package io.keypulse.bus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

@DisplayName("Request ids")
class RequestIdsTest {

  @Test
  @DisplayName("a batch's ids collapse a request's consecutive events, skip unknown ones, and stop at 100")
  void join() {
    assertThat(RequestIds.join(Arrays.asList("a", "a", null, "b", "b", "a"))).isEqualTo("a,b,a");
    assertThat(RequestIds.join(Arrays.asList(null, null))).isNull();
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      many.add("r" + i);
    }
    assertThat(RequestIds.join(many).split(",")).hasSize(100).startsWith("r0").endsWith("r99");
  }

  @Test
  @DisplayName("the MDC holds one request's id, or a batch's first and all, while the action runs, and what was there after")
  void within() {
    RequestIds.within("outer", () -> {
      RequestIds.within("a,b", () -> {
        assertThat(MDC.get("request_id")).isEqualTo("a");
        assertThat(MDC.get("request_ids")).isEqualTo("a,b");
      });
      assertThat(MDC.get("request_id")).isEqualTo("outer");
      assertThat(MDC.get("request_ids")).isNull();
    });
    assertThat(MDC.get("request_id")).isNull();
    RequestIds.within(null, () -> assertThat(MDC.get("request_id")).isNull());
  }

  @Test
  @DisplayName("a client's id is kept when short and plain, else replaced by 16 hex digits")
  void accept() {
    assertThat(RequestIds.accept("abc-123_X.y:z")).isEqualTo("abc-123_X.y:z");
    assertThat(RequestIds.accept("x".repeat(64))).isEqualTo("x".repeat(64));
    for (String hostile : new String[] {null, "", "x".repeat(65), "a b", "a,b", "caf\u00e9", "a\nb"}) {
      assertThat(RequestIds.accept(hostile)).as("for %s", hostile).matches("[0-9a-f]{16}");
    }
  }
}
