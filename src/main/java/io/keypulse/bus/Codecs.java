package io.keypulse.bus;

import io.keypulse.json.ExactJson;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * One codec per message record, registered on every node at start-up. Locally a message is passed
 * as is; between nodes it travels as JSON. Records that never leave their node have no wire form.
 */
public final class Codecs {
  private Codecs() {}

  public static void registerAll(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    bus.registerDefaultCodec(Append.class, localOnly(Append.class));
    bus.registerDefaultCodec(Appended.class, localOnly(Appended.class));
    bus.registerDefaultCodec(Committed.class, localOnly(Committed.class));
    bus.registerDefaultCodec(RuleMatches.class, localOnly(RuleMatches.class));
    bus.registerDefaultCodec(TakeToken.class, wire(TakeToken.class, TakeToken::toJson, TakeToken::fromJson));
    bus.registerDefaultCodec(Quota.class, wire(Quota.class, Quota::toJson, Quota::fromJson));
    bus.registerDefaultCodec(DetectEvents.class, wire(DetectEvents.class, DetectEvents::toJson, DetectEvents::fromJson));
    bus.registerDefaultCodec(Detected.class, wire(Detected.class, Detected::toJson, Detected::fromJson));
    bus.registerDefaultCodec(ProvisionCheck.class,
        wire(ProvisionCheck.class, ProvisionCheck::toJson, ProvisionCheck::fromJson));
    bus.registerDefaultCodec(ProvisionVerdict.class,
        wire(ProvisionVerdict.class, ProvisionVerdict::toJson, ProvisionVerdict::fromJson));
    bus.registerDefaultCodec(KeyCommand.class, wire(KeyCommand.class, KeyCommand::toJson, KeyCommand::fromJson));
    bus.registerDefaultCodec(PartnerSettingsChanged.class,
        wire(PartnerSettingsChanged.class, PartnerSettingsChanged::toJson, PartnerSettingsChanged::fromJson));
    bus.registerDefaultCodec(AlertRaised.class, wire(AlertRaised.class, AlertRaised::toJson, AlertRaised::fromJson));
    bus.registerDefaultCodec(DeliveriesDue.class, wire(DeliveriesDue.class, DeliveriesDue::toJson, DeliveriesDue::fromJson));
    bus.registerDefaultCodec(CredentialsChanged.class,
        wire(CredentialsChanged.class, CredentialsChanged::toJson, CredentialsChanged::fromJson));
    bus.registerDefaultCodec(LiveEvents.class, new LiveEventsCodec());
  }

  /** Listeners (SSE streams, the SockJS bridge) get plain JSON, built on first need. */
  private static final class LiveEventsCodec implements MessageCodec<LiveEvents, JsonObject> {
    @Override
    public void encodeToWire(Buffer buffer, LiveEvents value) {
      Buffer json = value.json().toBuffer();
      buffer.appendInt(json.length()).appendBuffer(json);
    }

    /** Numbers in details keep their spelling on other nodes' feeds too. */
    @Override
    public JsonObject decodeFromWire(int pos, Buffer buffer) {
      int length = buffer.getInt(pos);
      return (JsonObject) ExactJson.decode(buffer.getBuffer(pos + 4, pos + 4 + length));
    }

    @Override
    public JsonObject transform(LiveEvents value) {
      return value.json();
    }

    @Override
    public String name() {
      return "keypulse.LiveEvents";
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }

  private static <T> MessageCodec<T, T> localOnly(Class<T> type) {
    return wire(type, value -> {
      throw new IllegalStateException(type.getSimpleName() + " is a node-local message");
    }, json -> {
      throw new IllegalStateException(type.getSimpleName() + " is a node-local message");
    });
  }

  private static <T> MessageCodec<T, T> wire(Class<T> type, Function<T, JsonObject> encode,
                                             Function<JsonObject, T> decode) {
    return new MessageCodec<>() {
      @Override
      public void encodeToWire(Buffer buffer, T value) {
        Buffer json = encode.apply(value).toBuffer();
        buffer.appendInt(json.length()).appendBuffer(json);
      }

      @Override
      public T decodeFromWire(int pos, Buffer buffer) {
        int length = buffer.getInt(pos);
        return decode.apply(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length)));
      }

      @Override
      public T transform(T value) {
        return value;
      }

      @Override
      public String name() {
        return "keypulse." + type.getSimpleName();
      }

      @Override
      public byte systemCodecID() {
        return -1;
      }
    };
  }
}
