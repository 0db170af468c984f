package io.keypulse.api;

/**
 * What a string from a request may hold. Storable: Postgres refuses NUL in text (and json), and a
 * lone UTF-16 surrogate has no UTF-8 form (the driver would write '?'). Printable, for identifiers
 * and names: storable, without control characters (C0, DEL, C1), line and paragraph separators, or
 * invisible format characters (Unicode Cf: bidi overrides and isolates, zero-width spaces, the byte
 * order mark, soft hyphens, tag characters). Those show nothing, or reorder what is shown, so a name
 * or key id holding them can pass for another in a dashboard, an alert or an operator's terminal
 * ("Trojan Source", CVE-2021-42574), and tag characters carry text no one sees. The two joiners
 * (ZWNJ, ZWJ) stay allowed: Persian and Indic words and emoji sequences need them.
 */
public final class Text {
  /** The rule as error messages state it. */
  public static final String PRINTABLE =
      "without control characters, invisible format characters (bidi overrides, zero-width spaces) or invalid Unicode";

  private Text() {}

  public static boolean storable(String s) {
    return s.indexOf('\0') < 0 && wellFormed(s);
  }

  /** One pass, ASCII first: it runs for every identifier of every event of every batch. */
  public static boolean printable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        if (c < 0x20 || c == 0x7F) {
          return false;
        }
        continue;
      }
      int codePoint = c;
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        codePoint = Character.toCodePoint(c, s.charAt(++i));
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
      if (!printable(codePoint)) {
        return false;
      }
    }
    return true;
  }

  private static boolean printable(int codePoint) {
    return switch (Character.getType(codePoint)) {
      case Character.CONTROL, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
      case Character.FORMAT -> codePoint == 0x200C || codePoint == 0x200D;
      default -> true;
    };
  }

  /**
   * Bytes of the string in UTF-8, counted without encoding it (a surrogate pair is one 4-byte
   * character). Strings here are well-formed: JsonBodies refused lone surrogates.
   */
  public static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** No lone surrogates. Checked by hand: it runs for every string of every event of every batch. */
  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
