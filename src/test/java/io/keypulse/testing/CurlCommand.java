package io.keypulse.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A curl command as the README writes it, split as a POSIX shell would (quotes, $VAR and ${VAR},
 * a trailing # comment), keeping only what the examples use: -X, -H, -d, -i and the URL.
 */
public record CurlCommand(String method, String url, List<String> headers, String body, boolean include) {

  public static CurlCommand parse(String command, Map<String, String> vars) {
    List<String> words = words(command, vars);
    if (words.isEmpty() || !words.get(0).equals("curl")) {
      throw new IllegalArgumentException("not a curl command: " + command);
    }
    String method = null;
    String url = null;
    String body = null;
    boolean include = false;
    List<String> headers = new ArrayList<>();
    for (int i = 1; i < words.size(); i++) {
      String w = words.get(i);
      switch (w) {
        case "-X" -> method = words.get(++i);
        case "-H" -> headers.add(words.get(++i));
        case "-d" -> body = words.get(++i);
        default -> {
          if (w.matches("-[sSNi]+")) {
            include |= w.contains("i");
          } else if (w.startsWith("-")) {
            throw new IllegalArgumentException("curl option the walkthrough does not know: " + w);
          } else {
            url = w;
          }
        }
      }
    }
    return new CurlCommand(method != null ? method : body != null ? "POST" : "GET", url, headers, body, include);
  }

  static List<String> words(String command, Map<String, String> vars) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    for (int i = 0; i < command.length(); i++) {
      char c = command.charAt(i);
      if (Character.isWhitespace(c)) {
        if (word != null) {
          words.add(word.toString());
          word = null;
        }
        continue;
      }
      if (word == null) {
        if (c == '#') {
          break;
        }
        word = new StringBuilder();
      }
      if (c == '\'') {
        int close = command.indexOf('\'', i + 1);
        word.append(command, i + 1, close);
        i = close;
      } else if (c == '"') {
        int close = i + 1;
        StringBuilder quoted = new StringBuilder();
        while (command.charAt(close) != '"') {
          char q = command.charAt(close);
          if (q == '\\' && "\"\\$".indexOf(command.charAt(close + 1)) >= 0) {
            quoted.append(command.charAt(++close));
          } else {
            quoted.append(q);
          }
          close++;
        }
        word.append(expand(quoted.toString(), vars));
        i = close;
      } else {
        int end = i;
        while (end < command.length() && !Character.isWhitespace(command.charAt(end)) && "'\"".indexOf(command.charAt(end)) < 0) {
          end++;
        }
        word.append(expand(command.substring(i, end), vars));
        i = end - 1;
      }
    }
    if (word != null) {
      words.add(word.toString());
    }
    return words;
  }

  private static String expand(String text, Map<String, String> vars) {
    StringBuilder out = new StringBuilder();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)}?").matcher(text);
    while (m.find()) {
      String value = vars.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException("$" + m.group(1) + " is used before the README sets it");
      }
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
