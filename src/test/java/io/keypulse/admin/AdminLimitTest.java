package io.keypulse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The operator API's own rate limit")
class AdminLimitTest extends NodeTest {

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = super.settings(pg);
    s.put("rate_limit.admin_per_min", 5);
    return s;
  }

  @Test
  @DisplayName("an address gets admin_per_min requests a minute, wrong tokens included, then 429 with Retry-After")
  void limited() {
    for (int i = 0; i < 4; i++) {
      assertThat(api.get("/admin/partners", "Authorization", "Bearer test-admin-token").status()).isEqualTo(200);
    }
    assertThat(api.get("/admin/partners", "Authorization", "Bearer guess").status()).isEqualTo(401);
    Reply refused = api.get("/admin/partners", "Authorization", "Bearer test-admin-token");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.header("Retry-After")).isNotNull();
    assertThat(refused.json().getBoolean("success")).isFalse();
    assertThat(api.get("/api/stats").status()).as("the partner API is not affected").isEqualTo(200);
  }
}
