package io.keypulse.api;

import static io.keypulse.testing.Api.bearer;
import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Partners and their API keys")
class PartnerApiTest extends NodeTest {


  @Test
  @DisplayName("registration answers 201 with partner id, key and secret in the documented formats")
  void register() {
    Reply r = api.post("/api/v1/partners/register", new JsonObject().put("name", "YourPlatform"));

    assertThat(r.status()).isEqualTo(201);
    JsonObject j = r.json();
    assertThat(j.fieldNames()).containsExactly("partner_id", "api_key", "webhook_secret");
    assertThat(j.getString("partner_id")).matches("p_[0-9a-f]{8}");
    assertThat(j.getString("api_key")).matches("pk_live_[A-Za-z0-9]{40}");
    assertThat(j.getString("webhook_secret")).matches("whsec_[A-Za-z0-9]{32}");
  }

  @Test
  @DisplayName("neither the API key nor the webhook secret is stored in plaintext")
  void nothingInPlaintext() throws Exception {
    Partner p = api.register("Plaintext Check");

    assertThat(db.count("SELECT count(*) FROM api_keys WHERE partner_id = ? AND key_hash = ?", p.partnerId(),
        MessageDigest.getInstance("SHA-256").digest(p.apiKey().getBytes(StandardCharsets.UTF_8)))).isEqualTo(1);
    String dump = db.<String>column("SELECT row_to_json(t)::text FROM (SELECT * FROM partners p JOIN api_keys k "
        + "ON k.partner_id = p.id WHERE p.id = ?) t", p.partnerId()).get(0);
    assertThat(dump).doesNotContain(p.apiKey()).doesNotContain(p.apiKey().substring(8))
        .doesNotContain(p.webhookSecret()).doesNotContain(p.webhookSecret().substring(6));
  }

  @Test
  @DisplayName("a partner creates a second key, lists keys by prefix only, and a revoked key gets 403")
  void keyLifecycle() {
    Partner p = api.register("Key Lifecycle");
    Reply created = api.post("/api/v1/api-keys", new JsonObject().put("name", "ci"), key(p.apiKey()));
    assertThat(created.status()).isEqualTo(201);
    String second = created.json().getString("api_key");
    long id = created.json().getLong("id");
    assertThat(second).matches("pk_live_[A-Za-z0-9]{40}");
    assertThat(created.json().getString("created_at")).isNotBlank();

    Reply list = api.get("/api/v1/api-keys", bearer(second));
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.raw()).doesNotContain(second).doesNotContain(p.apiKey());
    JsonObject listed = list.array("keys").stream().map(JsonObject.class::cast)
        .filter(k -> k.getLong("id") == id).findFirst().orElseThrow();
    assertThat(listed.getString("prefix")).isEqualTo(second.substring(0, 12));
    assertThat(listed.fieldNames()).containsExactly("id", "name", "prefix", "status", "created_at", "last_used_at");
    assertThat(listed.getString("last_used_at")).isNotNull();

    Reply revoked = api.delete("/api/v1/api-keys/" + id, key(p.apiKey()));
    assertThat(revoked.json()).isEqualTo(new JsonObject().put("success", true).put("revoked", id));
    Reply refused = api.get("/api/events", key(second));
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.json().getString("message")).contains("revoked");
    assertThat(api.get("/api/events", key(p.apiKey())).status()).isEqualTo(200);
  }

  @Test
  @DisplayName("a partner cannot revoke its last active key, nor another partner's key")
  void revocationGuards() {
    Partner a = api.register("Guard A");
    Partner b = api.register("Guard B");
    long aKey = api.get("/api/v1/api-keys", key(a.apiKey())).array("keys").getJsonObject(0).getLong("id");

    Reply last = api.delete("/api/v1/api-keys/" + aKey, key(a.apiKey()));
    assertThat(last.status()).isEqualTo(400);
    assertThat(last.json().getString("message")).contains("last active");

    Reply foreign = api.delete("/api/v1/api-keys/" + aKey, key(b.apiKey()));
    assertThat(foreign.status()).isEqualTo(404);
    assertThat(api.get("/api/events", key(a.apiKey())).status()).isEqualTo(200);
  }

  @Test
  @DisplayName("a key sent to a public endpoint is still checked: a wrong one is 401")
  void publicEndpointChecksKeys() {
    assertThat(api.get("/api/stats").status()).isEqualTo(200);
    Reply wrong = api.get("/api/stats", key("pk_live_" + "y".repeat(40)));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.json().getBoolean("success")).isFalse();
  }
}
