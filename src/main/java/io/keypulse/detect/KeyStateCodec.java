package io.keypulse.detect;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A key's state as the bytes of its checkpoint. Per-key overrides are not in it: they live in the
 * keys table and are read with the checkpoint. The first format (a flat week of hourly counts, 256
 * fingerprints per set) is converted on read, so an upgrade neither forgets history nor replays it;
 * an unknown version reads as null, and the key is rebuilt from the event log.
 */
final class KeyStateCodec {
  private static final byte VERSION = 2;
  private static final byte LEGACY = 1;

  private KeyStateCodec() {}

  static byte[] write(KeyState s) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.bytes() + 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      for (long v : new long[] {s.lastEventId, s.eventCount, s.firstEventAt, s.lastEventAt, s.firstUsedAt, s.lastUsedAt,
          s.createdAt, s.deletedAt, s.lastRotatedAt, s.rotationAlertedAt}) {
        out.writeLong(v);
      }
      out.writeBoolean(s.signing != null);
      if (s.signing != null) {
        s.signing.write(out);
      }
      s.ips.write(out);
      s.actors.write(out);
      s.networks.write(out);
      out.writeByte(s.incidents.size());
      for (Map.Entry<String, KeyState.Incident> open : s.incidents.entrySet()) {
        out.writeUTF(open.getKey());
        out.writeLong(open.getValue().raisedAt);
        out.writeBoolean("critical".equals(open.getValue().severity));
      }
      writeThresholds(s, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static KeyState read(byte[] data) {
    KeyState s = new KeyState();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      byte version = in.readByte();
      if (version == LEGACY) {
        return readLegacy(in);
      }
      if (version != VERSION) {
        return null;
      }
      s.lastEventId = in.readLong();
      s.eventCount = in.readLong();
      s.firstEventAt = in.readLong();
      s.lastEventAt = in.readLong();
      s.firstUsedAt = in.readLong();
      s.lastUsedAt = in.readLong();
      s.createdAt = in.readLong();
      s.deletedAt = in.readLong();
      s.lastRotatedAt = in.readLong();
      s.rotationAlertedAt = in.readLong();
      if (in.readBoolean()) {
        s.signing = new SigningHistory();
        s.signing.read(in);
      }
      s.ips.read(in);
      s.actors.read(in);
      s.networks.read(in);
      for (int i = in.readUnsignedByte(); i > 0; i--) {
        s.open(in.readUTF(), new KeyState.Incident(in.readLong(), in.readBoolean() ? "critical" : "warning"));
      }
      readThresholds(s, in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return s;
  }

  private static KeyState readLegacy(DataInputStream in) throws IOException {
    KeyState s = new KeyState();
    s.lastEventId = in.readLong();
    s.eventCount = in.readLong();
    s.firstEventAt = in.readLong();
    s.lastEventAt = in.readLong();
    // The first format kept no span of use: its event span stands in, as it did for learning then.
    s.firstUsedAt = s.firstEventAt;
    s.lastUsedAt = s.lastEventAt;
    in.readLong();
    long lastSignAt = in.readLong();
    s.createdAt = in.readLong();
    s.deletedAt = in.readLong();
    s.lastRotatedAt = in.readLong();
    s.rotationAlertedAt = in.readLong();
    if (in.readBoolean()) {
      TimeBuckets hours = new TimeBuckets(KeyState.HOUR, 169);
      TimeBuckets minutes = new TimeBuckets(KeyState.MINUTE, 60);
      hours.read(in);
      minutes.read(in);
      s.signing = new SigningHistory();
      s.signing.restore(buckets(hours), counts(hours), buckets(minutes), counts(minutes), lastSignAt);
    }
    s.ips.readLegacy(in);
    s.actors.readLegacy(in);
    for (int i = in.readUnsignedShort(); i > 0; i--) {
      String[] ruleAndSeverity = in.readUTF().split("/", 2);
      long at = in.readLong();
      KeyState.Incident known = s.incidents.get(ruleAndSeverity[0]);
      if (known == null || known.raisedAt < at) {
        s.open(ruleAndSeverity[0], new KeyState.Incident(at, ruleAndSeverity[ruleAndSeverity.length - 1]));
      }
    }
    readThresholds(s, in);
    return s;
  }

  private static long[] buckets(TimeBuckets t) {
    long[] out = new long[t.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.newest() - t.size() + 1 + i;
    }
    return out;
  }

  private static long[] counts(TimeBuckets t) {
    long[] b = buckets(t);
    long[] out = new long[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = t.count(b[i]);
    }
    return out;
  }

  private static void writeThresholds(KeyState s, DataOutputStream out) throws IOException {
    out.writeShort(s.thresholds.size());
    for (Map.Entry<Long, KeyState.ThresholdCounter> c : s.thresholds.entrySet()) {
      out.writeLong(c.getKey());
      out.writeByte(c.getValue().window.ordinal());
      out.writeLong(c.getValue().lastWarnAt);
      out.writeLong(c.getValue().lastBreachAt);
      c.getValue().buckets.write(out);
    }
  }

  private static void readThresholds(KeyState s, DataInputStream in) throws IOException {
    for (int i = in.readUnsignedShort(); i > 0; i--) {
      long id = in.readLong();
      KeyState.ThresholdCounter c = new KeyState.ThresholdCounter(Threshold.Window.values()[in.readByte()]);
      c.lastWarnAt = in.readLong();
      c.lastBreachAt = in.readLong();
      c.buckets.read(in);
      s.counters().put(id, c);
    }
  }
}
