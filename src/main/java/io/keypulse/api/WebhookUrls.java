package io.keypulse.api;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Shape of a webhook URL a partner gives us: absolute http(s), a host, no credentials. Where it
 * may point (the SSRF rules) is the delivery actor's decision, made again at send time.
 */
final class WebhookUrls {
  private static final int MAX_LENGTH = 2048;

  String optional(Object value, String field) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank() || s.length() > MAX_LENGTH) {
      throw HttpProblem.badRequest(field + " must be an http(s) URL of at most " + MAX_LENGTH + " characters");
    }
    try {
      URI uri = new URI(s.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw HttpProblem.badRequest(field + " must be an absolute http:// or https:// URL");
      }
      if (uri.getUserInfo() != null) {
        throw HttpProblem.badRequest(field + " must not carry credentials");
      }
      return uri.toString();
    } catch (URISyntaxException e) {
      throw HttpProblem.badRequest(field + " is not a valid URL");
    }
  }
}
