package io.keypulse.delivery;

import io.keypulse.detect.IpRange;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a webhook may go (the SSRF rules): http or https only, and every address the host resolves
 * to must pass the {@link AddressPolicy}: public, or in webhook.allowed_cidrs. The check runs when a URL is set and again before every send, and the
 * request then goes to the very address that passed, so DNS cannot swap it in between.
 */
public final class WebhookTargets {
  private static final int MAX_URL = 2048;

  /** A URL that passed, and the address to connect to. */
  public record Target(URI uri, String host, int port, boolean https, InetAddress address) {
    public String endpoint() {
      return (https ? "https://" : "http://") + host + ":" + port;
    }
  }

  private record Checked(Target target, long until) {}

  private static final int MAX_CACHED = 10_000;
  private final Vertx vertx;
  private final AddressPolicy policy;
  private final long cacheMillis;
  /** URLs that passed lately: a busy endpoint is not resolved and checked again for every request. */
  private final Map<String, Checked> passed = new ConcurrentHashMap<>();

  public WebhookTargets(Vertx vertx, List<String> allowedCidrs, int cacheSeconds) {
    this.vertx = vertx;
    this.policy = new AddressPolicy(allowList(allowedCidrs));
    this.cacheMillis = cacheSeconds * 1000L;
  }

  /** Parses webhook.allowed_cidrs, failing with a message that names the setting. */
  public static List<IpRange> allowList(List<String> cidrs) {
    return cidrs.stream().map(WebhookTargets::allowed).toList();
  }

  private static IpRange allowed(String cidr) {
    try {
      return IpRange.parse(cidr);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("webhook.allowed_cidrs must be address ranges like 127.0.0.0/8, got " + cidr);
    }
  }

  /** Checks a URL and resolves its host (off the event loop); fails with a message fit for the partner. */
  public Future<Target> check(String url) {
    Checked cached = passed.get(url);
    long now = System.currentTimeMillis();
    if (cached != null && cached.until() > now) {
      return Future.succeededFuture(cached.target());
    }
    return resolveAndCheck(url).onSuccess(target -> {
      if (cacheMillis > 0) {
        if (passed.size() >= MAX_CACHED) {
          passed.clear();
        }
        passed.put(url, new Checked(target, now + cacheMillis));
      }
    });
  }

  private Future<Target> resolveAndCheck(String url) {
    URI uri;
    try {
      uri = shape(url);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
    boolean https = uri.getScheme().equalsIgnoreCase("https");
    int port = uri.getPort() > 0 ? uri.getPort() : https ? 443 : 80;
    return vertx.executeBlocking(() -> InetAddress.getAllByName(host), false).recover(e -> Future.failedFuture(
            new IllegalArgumentException("webhook host " + host + " does not resolve")))
        .compose(addresses -> {
          for (InetAddress a : addresses) {
            String refusal = policy.refusal(a);
            if (refusal != null) {
              return Future.failedFuture(new IllegalArgumentException("webhook URL " + url + " points to " + refusal
                  + "; only public addresses are allowed"));
            }
          }
          return Future.succeededFuture(new Target(uri, host, port, https, addresses[0]));
        });
  }

  /** Syntax only: absolute http(s), a host, no credentials, reasonable length. */
  static URI shape(String url) {
    if (url == null || url.isBlank() || url.length() > MAX_URL) {
      throw new IllegalArgumentException("webhook URL must be an http(s) URL of at most " + MAX_URL + " characters");
    }
    try {
      URI uri = new URI(url.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException("webhook URL must be an absolute http:// or https:// URL");
      }
      if (uri.getUserInfo() != null) {
        throw new IllegalArgumentException("webhook URL must not carry credentials");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("webhook URL is not a valid URL");
    }
  }
}
