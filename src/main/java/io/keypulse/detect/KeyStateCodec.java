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
 * keys table and are read with the checkpoint. An unknown version reads as an empty state, which
 * the replay from the event log then rebuilds.
 */
final class KeyStateCodec {
  private static final byte VERSION = 1;

  private KeyStateCodec() {}

  static byte[] write(KeyState s) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.bytes());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      for (long v : new long[] {s.lastEventId, s.eventCount, s.firstEventAt, s.lastEventAt, s.signCount, s.lastSignAt,
          s.createdAt, s.deletedAt, s.lastRotatedAt, s.rotationAlertedAt}) {
        out.writeLong(v);
      }
      out.writeBoolean(s.signHours != null);
      if (s.signHours != null) {
        s.signHours.write(out);
        s.signMinutes.write(out);
      }
      s.ips.write(out);
      s.actors.write(out);
      out.writeShort(s.lastFired.size());
      for (Map.Entry<String, Long> fired : s.lastFired.entrySet()) {
        out.writeUTF(fired.getKey());
        out.writeLong(fired.getValue());
      }
      out.writeShort(s.thresholds.size());
      for (Map.Entry<Long, KeyState.ThresholdCounter> c : s.thresholds.entrySet()) {
        out.writeLong(c.getKey());
        out.writeByte(c.getValue().window.ordinal());
        out.writeLong(c.getValue().lastWarnAt);
        out.writeLong(c.getValue().lastBreachAt);
        c.getValue().buckets.write(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static KeyState read(byte[] data) {
    KeyState s = new KeyState();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      if (in.readByte() != VERSION) {
        return s;
      }
      s.lastEventId = in.readLong();
      s.eventCount = in.readLong();
      s.firstEventAt = in.readLong();
      s.lastEventAt = in.readLong();
      s.signCount = in.readLong();
      s.lastSignAt = in.readLong();
      s.createdAt = in.readLong();
      s.deletedAt = in.readLong();
      s.lastRotatedAt = in.readLong();
      s.rotationAlertedAt = in.readLong();
      if (in.readBoolean()) {
        s.signHours = new TimeBuckets(KeyState.HOUR, 169);
        s.signMinutes = new TimeBuckets(KeyState.MINUTE, 60);
        s.signHours.read(in);
        s.signMinutes.read(in);
      }
      s.ips.read(in);
      s.actors.read(in);
      for (int i = in.readUnsignedShort(); i > 0; i--) {
        s.lastFired.put(in.readUTF(), in.readLong());
      }
      for (int i = in.readUnsignedShort(); i > 0; i--) {
        long id = in.readLong();
        KeyState.ThresholdCounter c = new KeyState.ThresholdCounter(Threshold.Window.values()[in.readByte()]);
        c.lastWarnAt = in.readLong();
        c.lastBreachAt = in.readLong();
        c.buckets.read(in);
        s.thresholds.put(id, c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return s;
  }
}
