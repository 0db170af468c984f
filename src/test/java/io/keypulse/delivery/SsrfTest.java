package io.keypulse.delivery;

import static io.keypulse.testing.Api.key;
import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.testing.Api.Partner;
import io.keypulse.testing.Api.Reply;
import io.keypulse.testing.NodeTest;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A node with the default settings: no address range allowed beyond public ones. */
@DisplayName("Webhook URLs: the SSRF rules")
class SsrfTest extends NodeTest {
  /** URL refused, and what the message must say. */
  private static final Map<String, String> REFUSED = new LinkedHashMap<>();

  static {
    REFUSED.put("http://127.0.0.1:8080/hook", "loopback address 127.0.0.1");
    REFUSED.put("http://localhost/hook", "loopback");
    REFUSED.put("http://[::1]/hook", "loopback");
    REFUSED.put("http://[::ffff:127.0.0.1]/hook", "loopback");
    REFUSED.put("http://2130706433/hook", "loopback");
    REFUSED.put("http://169.254.169.254/latest/meta-data", "link-local (metadata) address 169.254.169.254");
    REFUSED.put("http://10.0.0.1/hook", "private address 10.0.0.1");
    REFUSED.put("http://192.168.1.20/hook", "private address");
    REFUSED.put("http://172.16.3.4/hook", "private address");
    REFUSED.put("http://100.64.0.1/hook", "carrier-grade NAT address 100.64.0.1");
    REFUSED.put("http://0.0.0.0/hook", "address 0.0.0.0");
    REFUSED.put("http://224.0.0.1/hook", "multicast");
    REFUSED.put("http://[fd00::1]/hook", "private");
    REFUSED.put("http://[::127.0.0.1]/hook", "loopback address 127.0.0.1 inside ::7f00:1");
    REFUSED.put("http://[::7f00:1]/hook", "loopback address 127.0.0.1 inside ::7f00:1");
    REFUSED.put("http://[::ffff:0:127.0.0.1]/hook", "loopback address 127.0.0.1 inside ::ffff:0:7f00:1");
    REFUSED.put("http://[2002:7f00:1::]/hook", "loopback address 127.0.0.1 inside 2002:7f00:1::");
    REFUSED.put("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "loopback address 127.0.0.1 inside 2001:0:");
    REFUSED.put("http://[64:ff9b::7f00:1]/hook", "loopback address 127.0.0.1 inside 64:ff9b::7f00:1");
    REFUSED.put("http://[64:ff9b::169.254.169.254]/x", "link-local (metadata) address 169.254.169.254 inside");
    REFUSED.put("http://[64:ff9b:1::5db8:d70e]/hook", "reserved address 64:ff9b:1::5db8:d70e");
    REFUSED.put("http://[2002:a00:1::]/hook", "private address 10.0.0.1 inside");
    REFUSED.put("http://[::ffff:192.168.0.1]/hook", "private address 192.168.0.1");
    REFUSED.put("http://[::]/hook", "unspecified address ::");
    REFUSED.put("http://[fe80::1]/hook", "link-local (metadata) address fe80::1");
    REFUSED.put("http://[fec0::1]/hook", "private address fec0::1");
    REFUSED.put("http://[ff02::1]/hook", "multicast address ff02::1");
    REFUSED.put("http://[100::1]/hook", "reserved address 100::1");
    REFUSED.put("http://[2001:db8::1]/hook", "documentation address 2001:db8::1");
    REFUSED.put("http://255.255.255.255/hook", "reserved address 255.255.255.255");
    REFUSED.put("http://198.18.0.1/hook", "reserved address 198.18.0.1");
    REFUSED.put("http://192.0.0.8/hook", "reserved address 192.0.0.8");
    REFUSED.put("ftp://203.0.114.1/x", "http:// or https://");
    REFUSED.put("javascript:alert(1)", "http:// or https://");
    REFUSED.put("http://user:secret@203.0.114.1/x", "must not carry credentials");
    REFUSED.put("http:///no-host", "http:// or https://");
    REFUSED.put("http://no-such-host.invalid/x", "does not resolve");
  }

  @Test
  @DisplayName("each refused at registration, in rules, as the partner webhook and as a test target, with the reason")
  void refusedEverywhere() {
    Partner p = api.register("SSRF");
    REFUSED.forEach((url, reason) -> {
      Reply register = api.post("/api/v1/partners/register", new JsonObject().put("name", "x").put("webhook_url", url));
      Reply rule = api.post("/api/v1/rules", new JsonObject().put("name", "r").put("event_type_match", "*")
          .put("webhook_url", url).put("severity", "warning"), key(p.apiKey()));
      Reply hook = api.put("/api/v1/partners/webhook", new JsonObject().put("url", url), key(p.apiKey()));
      Reply test = api.post("/api/v1/webhooks/test", new JsonObject().put("url", url), key(p.apiKey()));
      for (Reply r : new Reply[] {register, rule, hook, test}) {
        assertThat(r.status()).as("%s: %s", url, r).isEqualTo(400);
        assertThat(r.json().getBoolean("success")).isFalse();
        assertThat(r.json().getString("message")).as(url).contains(reason);
      }
    });
    assertThat(db.count("SELECT count(*) FROM rules WHERE partner_id = ?", p.partnerId())).isZero();
    assertThat(db.count("SELECT count(*) FROM deliveries WHERE partner_id = ?", p.partnerId())).isZero();
    assertThat(db.count("SELECT count(*) FROM partners WHERE webhook_url IS NOT NULL")).isZero();
  }

  @Test
  @DisplayName("a public address is accepted, IPv4 or IPv6, and so is an IPv6 form of a public IPv4 address")
  void publicAddressAccepted() {
    Partner p = api.register("Public");
    for (String url : new String[] {"https://93.184.215.14/keypulse", "https://[2606:4700:4700::1111]/keypulse",
        "https://[64:ff9b::93.184.215.14]/keypulse", "https://[2002:5db8:d70e::1]/keypulse"}) {
      Reply rule = api.post("/api/v1/rules", new JsonObject().put("name", "r").put("event_type_match", "*")
          .put("webhook_url", url).put("severity", "warning"), key(p.apiKey()));
      assertThat(rule.status()).as(rule.toString()).isEqualTo(201);
    }
  }
}
