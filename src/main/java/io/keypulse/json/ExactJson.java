package io.keypulse.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes JSON as Vert.x does (same parser settings, same Map/List/Integer/Long/BigInteger values),
 * except that a number with a fraction or exponent, or -0, stays a {@link JsonNumber} holding its
 * text: through a Double, {@code 1e3} would come back as {@code 1000.0}. Integers are kept as Java
 * integers: JSON writes each of those one way only.
 */
public final class ExactJson {
  private static final JsonFactory FACTORY = DatabindCodec.mapper().getFactory();

  private ExactJson() {}

  /** Any JSON value; objects and arrays as JsonObject and JsonArray. */
  public static Object decode(Buffer json) {
    try (JsonParser p = FACTORY.createParser(json.getBytes())) {
      return decode(p);
    } catch (IOException e) {
      throw new DecodeException("Failed to decode: " + e.getMessage(), e);
    }
  }

  /** A JSON object, e.g. a json column read as text. */
  public static JsonObject object(String json) {
    Object value;
    try (JsonParser p = FACTORY.createParser(json)) {
      value = decode(p);
    } catch (IOException e) {
      throw new DecodeException("Failed to decode: " + e.getMessage(), e);
    }
    if (!(value instanceof JsonObject object)) {
      throw new DecodeException("a JSON object was expected");
    }
    return object;
  }

  private static Object decode(JsonParser p) throws IOException {
    if (p.nextToken() == null) {
      throw new DecodeException("no JSON value");
    }
    Object value = value(p);
    if (p.nextToken() != null) {
      throw new DecodeException("Unexpected trailing token");
    }
    return value instanceof Map<?, ?> map ? new JsonObject(cast(map))
        : value instanceof List<?> list ? new JsonArray(list) : value;
  }

  private static Object value(JsonParser p) throws IOException {
    return switch (p.currentToken()) {
      case START_OBJECT -> {
        Map<String, Object> map = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          map.put(name, value(p));
        }
        yield map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          list.add(value(p));
        }
        yield list;
      }
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_FLOAT -> new JsonNumber(p.getText());
      case VALUE_NUMBER_INT -> negativeZero(p) ? new JsonNumber(p.getText()) : p.getNumberValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      default -> throw new DecodeException("unexpected JSON token " + p.currentToken());
    };
  }

  private static boolean negativeZero(JsonParser p) throws IOException {
    return p.getNumberType() == JsonParser.NumberType.INT && p.getIntValue() == 0 && p.getText().startsWith("-");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }
}
