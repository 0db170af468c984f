package io.keypulse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.db.PgTarget;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/** A node test whose webhooks may reach loopback, with a receiver there; a subclass adds its own settings. */
public abstract class WebhookNodeTest extends NodeTest {
  protected final Receiver receiver = new Receiver();

  /** Webhook settings of the test class: retry delays and the like. */
  protected abstract Map<String, Object> webhookSettings();

  @Override
  protected Map<String, Object> settings(PgTarget pg) {
    Map<String, Object> s = super.settings(pg);
    s.put("webhook.allowed_cidrs", "127.0.0.0/8");
    webhookSettings().forEach((name, value) -> s.put("webhook." + name, value));
    return s;
  }

  /** A rule of the partner's that fires on every event, its webhooks to the receiver's path. */
  protected void ruleForEveryEvent(Api.Partner partner, String path) {
    assertThat(api.post("/api/v1/rules", new JsonObject().put("name", "All").put("event_type_match", "*")
        .put("webhook_url", receiver.url(path)).put("severity", "warning"), Api.key(partner.apiKey())).status())
        .as("rule created").isEqualTo(201);
  }

  @AfterAll
  void closeReceiver() {
    receiver.close();
  }
}
