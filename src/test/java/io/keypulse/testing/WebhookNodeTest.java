package io.keypulse.testing;

import io.keypulse.db.PgTarget;
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

  @AfterAll
  void closeReceiver() {
    receiver.close();
  }
}
