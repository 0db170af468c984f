package io.keypulse.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;

/**
 * A JSON number as a partner wrote it ({@code 1e3}, {@code 1.50}, {@code -0}): read as its value,
 * written back as the same text, so a partner's own signatures and diffs over its details hold.
 * Jackson writes it raw (it is {@link JsonSerializable}), so every JsonObject encode keeps it.
 */
public final class JsonNumber extends Number implements JsonSerializable {
  private final String text;
  private final double value;

  JsonNumber(String text) {
    this.text = text;
    this.value = Double.parseDouble(text);
  }

  @Override
  public int intValue() {
    return (int) value;
  }

  @Override
  public long longValue() {
    return (long) value;
  }

  @Override
  public float floatValue() {
    return (float) value;
  }

  @Override
  public double doubleValue() {
    return value;
  }

  @Override
  public void serialize(JsonGenerator gen, SerializerProvider serializers) throws IOException {
    gen.writeNumber(text);
  }

  @Override
  public void serializeWithType(JsonGenerator gen, SerializerProvider serializers, TypeSerializer typeSer)
      throws IOException {
    gen.writeNumber(text);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof JsonNumber n && n.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  /** The number as it was written. */
  @Override
  public String toString() {
    return text;
  }
}
