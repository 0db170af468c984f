package io.keypulse.testing;

import static io.keypulse.testing.Api.key;

import io.keypulse.testing.Api.Partner;
import io.vertx.core.json.JsonObject;

/** Raising alerts the plainest way: a reported policy violation always raises one (SPEC §5). */
public final class Alerts {
  private Alerts() {}

  /** Ingests a policy_violation for the key and waits for its alert; returns it. */
  public static JsonObject policyViolation(Api api, Partner p, String keyId) {
    JsonObject event = new JsonObject().put("event_type", "policy_violation").put("key_id", keyId);
    Api.Reply r = api.post("/api/v1/events/ingest", event, key(p.apiKey()));
    if (r.status() != 202) {
      throw new IllegalStateException("ingest failed: " + r);
    }
    return await(api, p, "rule=policy_violation&key_id=" + keyId);
  }

  /** The newest alert matching the query, once there is one (15 s at most). */
  public static JsonObject await(Api api, Partner p, String query) {
    JsonObject found = Sleep.poll(() -> {
      var alerts = api.get("/api/alerts?" + query, key(p.apiKey())).array("alerts");
      return alerts.isEmpty() ? null : alerts.getJsonObject(0);
    }, 15_000);
    if (found == null) {
      throw new AssertionError("no alert matching " + query);
    }
    return found;
  }
}
