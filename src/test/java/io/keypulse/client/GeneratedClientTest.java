package io.keypulse.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.keypulse.client.api.IngestApi;
import io.keypulse.client.api.PartnersApi;
import io.keypulse.client.api.QueriesApi;
import io.keypulse.client.api.WebhooksApi;
import io.keypulse.client.invoker.ApiClient;
import io.keypulse.client.invoker.ApiException;
import io.keypulse.client.model.Alert;
import io.keypulse.client.model.AlertWebhook;
import io.keypulse.client.model.CreateRuleRequest;
import io.keypulse.client.model.Delivery;
import io.keypulse.client.model.DeliveryStatus;
import io.keypulse.client.model.Event;
import io.keypulse.client.model.IngestEventBatchRequest;
import io.keypulse.client.model.IngestPartnerEventsRequest;
import io.keypulse.client.model.IngestedEvent;
import io.keypulse.client.model.ListAlerts200Response;
import io.keypulse.client.model.ListEvents200Response;
import io.keypulse.client.model.PartnerEventBatch;
import io.keypulse.client.model.PartnerEventIn;
import io.keypulse.client.model.PutPartnerWebhookRequest;
import io.keypulse.client.model.ReferenceEventIn;
import io.keypulse.client.model.RegisterPartner201Response;
import io.keypulse.client.model.RegisterPartnerRequest;
import io.keypulse.client.model.Rule;
import io.keypulse.client.model.RuleMatchWebhookRequest;
import io.keypulse.client.model.Severity;
import io.keypulse.client.model.TestWebhookRequest;
import io.keypulse.testing.ReadmeJava;
import io.keypulse.testing.Receiver;
import io.keypulse.testing.WebhookNodeTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The Java client generated from the OpenAPI description, against a real node, as a partner would use it. */
@DisplayName("The generated Java client works against a node")
class GeneratedClientTest extends WebhookNodeTest {
  private Method hmacHex;
  private Method signingKey;
  private Method verify;

  @Override
  protected Map<String, Object> webhookSettings() {
    return Map.of("retry_delays_ms", "300,600,1200", "poll_ms", 200);
  }

  /** A registered partner and a client that sends its key on every request. */
  private record Session(RegisterPartner201Response partner, ApiClient client) {
    IngestApi ingest() {
      return new IngestApi(client);
    }

    QueriesApi queries() {
      return new QueriesApi(client);
    }

    WebhooksApi webhooks() {
      return new WebhooksApi(client);
    }
  }

  private Session register(String name) throws ApiException {
    ApiClient client = new ApiClient();
    client.updateBaseUri("http://127.0.0.1:" + node.port());
    RegisterPartner201Response partner = new PartnersApi(client).registerPartner(new RegisterPartnerRequest().name(name), null);
    client.setRequestInterceptor(request -> request.header("X-API-Key", partner.getApiKey()));
    return new Session(partner, client);
  }

  /** The README's two Java receivers' checks, compiled once. */
  @BeforeAll
  void loadReadmeReceivers() throws Exception {
    hmacHex = ReadmeJava.load("KeyPulseWebhook").getDeclaredMethod("hmacHex", byte[].class, byte[].class);
    Class<?> standard = ReadmeJava.load("StandardWebhook");
    signingKey = standard.getDeclaredMethod("signingKey", String.class);
    verify = standard.getDeclaredMethod("verify", byte[].class, String.class, String.class, String.class, byte[].class);
    for (Method m : List.of(hmacHex, signingKey, verify)) {
      m.setAccessible(true);
    }
  }

  @Test
  @DisplayName("registers, ingests in both dialects, single and batch, and pages every event back over several pages")
  void ingestAndPageEvents() throws Exception {
    Session s = register("Client Events");
    assertThat(s.partner().getApiKey()).startsWith("pk_live_");
    assertThat(s.partner().getWebhookSecret()).matches("whsec_[A-Za-z0-9]{32}");
    List<Long> stored = ingestBothDialects(s);

    List<List<Long>> pages = new ArrayList<>();
    Long before = null;
    do {
      ListEvents200Response page = s.queries().listEvents(null, null, null, null, null, 2, before);
      pages.add(page.getEvents().stream().map(Event::getId).toList());
      before = page.getNextBeforeId();
    } while (before != null);
    assertThat(pages).as("limit 2 over 6 events").hasSize(3).allSatisfy(page -> assertThat(page).hasSize(2));
    assertThat(pages.stream().flatMap(List::stream)).as("newest first, each once")
        .containsExactlyElementsOf(stored.stream().sorted(java.util.Comparator.reverseOrder()).toList());
    assertThat(s.queries().listEvents("k3", null, Severity.CRITICAL, null, null, 20, null).getEvents())
        .extracting(Event::getKeyId, Event::getSeverity).containsExactly(tuple("k3", Severity.CRITICAL));
  }

  /** Six events: partner dialect single and batch of two, reference dialect single and batch of two. */
  private List<Long> ingestBothDialects(Session s) throws ApiException {
    List<Long> stored = new ArrayList<>();
    IngestPartnerEventsRequest rotated = new IngestPartnerEventsRequest(partnerEvent("key_rotated", "k1"));
    stored.add(evtId(s.ingest().ingestPartnerEvents(rotated, "client-1").getEventId()));
    assertThat(evtId(s.ingest().ingestPartnerEvents(rotated, "client-1").getEventId())).as("replayed, not stored again")
        .isEqualTo(stored.get(0));
    s.ingest().ingestPartnerEvents(new IngestPartnerEventsRequest(new PartnerEventBatch()
        .data(List.of(partnerEvent("signing_operation", "k1"), partnerEvent("key_accessed", "k2")))), null)
        .getEventIds().forEach(id -> stored.add(evtId(id)));
    var one = s.ingest().ingestEvent(referenceEvent("k2", Severity.WARNING).details(Map.of("amount_usd", 42500)), null);
    assertThat(one.getSeverity()).isEqualTo(Severity.WARNING);
    assertThat(one.getDetails()).isEqualTo(Map.of("amount_usd", 42500));
    stored.add(one.getId());
    var many = s.ingest().ingestEventBatch(new IngestEventBatchRequest()
        .events(List.of(referenceEvent("k3", Severity.NOMINAL), referenceEvent("k3", Severity.CRITICAL))), null);
    assertThat(many.getCount()).isEqualTo(2);
    many.getEvents().stream().map(IngestedEvent::getId).forEach(stored::add);
    return stored;
  }

  @Test
  @DisplayName("pages alerts with their cursor, and reports a refused request as an ApiException with the status")
  void pageAlerts() throws Exception {
    Session s = register("Client Alerts");
    for (String key : List.of("wallet-1", "wallet-2", "wallet-3")) {
      s.ingest().ingestPartnerEvents(new IngestPartnerEventsRequest(partnerEvent("policy_violation", key)), null);
    }
    List<Alert> alerts = List.of();
    for (long deadline = System.currentTimeMillis() + 10_000; alerts.size() < 3 && System.currentTimeMillis() < deadline; ) {
      alerts = allAlertsOnePerPage(s);
    }
    assertThat(alerts).extracting(Alert::getKeyId).containsExactlyInAnyOrder("wallet-1", "wallet-2", "wallet-3");
    assertThat(alerts).extracting(Alert::getKind).containsOnly(Alert.KindEnum.ANOMALY_DETECTED);

    s.client().setRequestInterceptor(request -> request.header("X-API-Key", "pk_live_not-a-key"));
    assertThatThrownBy(() -> s.queries().listAlerts(null, null, null, null, 1, null))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(401));
  }

  private static List<Alert> allAlertsOnePerPage(Session s) throws ApiException {
    List<Alert> alerts = new ArrayList<>();
    Long before = null;
    do {
      ListAlerts200Response page = s.queries().listAlerts(null, "policy_violation", null, null, 1, before);
      assertThat(page.getAlerts()).hasSizeLessThanOrEqualTo(1);
      alerts.addAll(page.getAlerts());
      before = page.getNextBeforeId();
    } while (before != null);
    return alerts;
  }

  @Test
  @DisplayName("a rule created with the client fires; the delivery verifies with the README's receivers and is in the log")
  void ruleFires() throws Exception {
    Session s = register("Client Webhooks");
    Rule rule = s.webhooks().createRule(new CreateRuleRequest().name("Rotation alert").eventTypeMatch("key_rotated")
        .webhookUrl(URI.create(receiver.url("/client-rule"))).severity(Severity.WARNING), null).getRule();
    assertThat(rule.getIsActive()).isTrue();
    String eventId = s.ingest().ingestPartnerEvents(new IngestPartnerEventsRequest(partnerEvent("key_rotated", "eth-key")), null)
        .getEventId();

    Receiver.Hit hit = receiver.await("/client-rule", h -> true, 1, 10_000).get(0);
    assertSigned(hit, s.partner().getWebhookSecret());
    RuleMatchWebhookRequest body = s.client().getObjectMapper().readValue(hit.body(), RuleMatchWebhookRequest.class);
    assertThat(body.getRuleId()).isEqualTo(rule.getId());
    assertThat(body.getEventId()).isEqualTo(evtId(eventId));
    assertThat(body.getKeyId()).isEqualTo("eth-key");

    Delivery logged = awaitDelivered(s, rule.getId());
    assertThat(logged.getDeliveryId()).isEqualTo(hit.header("X-KeyPulse-Delivery"));
  }

  @Test
  @DisplayName("the partner webhook set with the client receives an alert, and a test send answers its delivery; both verify")
  void partnerWebhookVerifies() throws Exception {
    Session s = register("Client Partner Webhook");
    new PartnersApi(s.client()).putPartnerWebhook(new PutPartnerWebhookRequest().url(URI.create(receiver.url("/client-partner"))));
    s.ingest().ingestPartnerEvents(new IngestPartnerEventsRequest(partnerEvent("policy_violation", "eth-key")), null);
    Receiver.Hit alert = receiver.await("/client-partner", h -> true, 1, 10_000).get(0);
    assertSigned(alert, s.partner().getWebhookSecret());
    AlertWebhook payload = s.client().getObjectMapper().readValue(alert.body(), AlertWebhook.class);
    assertThat(payload.getPartnerId()).isEqualTo(s.partner().getPartnerId());
    assertThat(payload.getAlert().getRule()).isEqualTo("policy_violation");

    Delivery test = s.webhooks().testWebhook(new TestWebhookRequest().url(URI.create(receiver.url("/client-test")))).getDelivery();
    assertThat(test.getStatus()).isEqualTo(DeliveryStatus.DELIVERED);
    assertSigned(receiver.await("/client-test", h -> true, 1, 5000).get(0), s.partner().getWebhookSecret());
  }

  @Test
  @DisplayName("the README's client example runs against the node and prints the events it sent")
  void readmeExample() throws Exception {
    Method main = ReadmeJava.load("ClientQuickstart").getMethod("main", String[].class);
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream out = System.out;
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) new String[] {"http://127.0.0.1:" + node.port()});
    } finally {
      System.setOut(out);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8).lines().toList())
        .satisfiesExactly(
            line -> assertThat(line).matches("\\d+ signing_request nominal \\S+Z"),
            line -> assertThat(line).matches("\\d+ key_rotated nominal \\S+Z"));
  }

  /** Both signatures a partner checks: X-KeyPulse-Signature and Standard Webhooks, with the README's own code. */
  private void assertSigned(Receiver.Hit hit, String secret) throws Exception {
    byte[] expected = (byte[]) hmacHex.invoke(null, secret.getBytes(StandardCharsets.UTF_8), hit.body());
    assertThat(hit.header("X-KeyPulse-Signature")).isEqualTo(new String(expected, StandardCharsets.US_ASCII));

    byte[] key = (byte[]) signingKey.invoke(null, secret);
    assertThat(verify.invoke(null, key, hit.header("webhook-id"), hit.header("webhook-timestamp"),
        hit.header("webhook-signature"), hit.body())).isEqualTo(true);
    assertThat(verify.invoke(null, key, hit.header("webhook-id"), hit.header("webhook-timestamp"),
        hit.header("webhook-signature"), "{}".getBytes(StandardCharsets.UTF_8))).as("another body").isEqualTo(false);
  }

  private static Delivery awaitDelivered(Session s, long ruleId) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      List<Delivery> found = s.webhooks().listDeliveries(DeliveryStatus.DELIVERED, ruleId, 10, null).getDeliveries();
      if (!found.isEmpty() || System.currentTimeMillis() > deadline) {
        assertThat(found).hasSize(1);
        return found.get(0);
      }
      Thread.sleep(50);
    }
  }

  private static PartnerEventIn partnerEvent(String type, String key) {
    return new PartnerEventIn().eventType(type).keyId(key);
  }

  private static ReferenceEventIn referenceEvent(String key, Severity severity) {
    return new ReferenceEventIn().keyId(key).eventType("signing_request").severity(severity);
  }

  private static long evtId(String eventId) {
    assertThat(eventId).matches("evt_\\d+");
    return Long.parseLong(eventId.substring(4));
  }
}
