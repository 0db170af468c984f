package io.keypulse.api;

/**
 * What a string from a request may hold. Storable: Postgres refuses NUL in text (and json), and a
 * lone UTF-16 surrogate has no UTF-8 form (the driver would write '?'). Printable, for identifiers
 * and names: storable and without control characters (C0, DEL, C1) either.
 */
public final class Text {
  /** The rule as error messages state it. */
  public static final String PRINTABLE = "without control characters or invalid Unicode";

  private Text() {}

  public static boolean storable(String s) {
    return s.indexOf('\0') < 0 && wellFormed(s);
  }

  public static boolean printable(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return false;
      }
    }
    return wellFormed(s);
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
