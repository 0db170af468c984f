package io.keypulse.detect;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A partner's key creations, for provisioning_spike: hourly for 7 days, by minute for the last hour. */
final class PartnerState {
  private static final byte VERSION = 1;
  long lastEventId;
  long firstCreateAt = KeyState.NEVER;
  long lastCreateAt = KeyState.NEVER;
  final TimeBuckets hours = new TimeBuckets(KeyState.HOUR, 169);
  final TimeBuckets minutes = new TimeBuckets(KeyState.MINUTE, 60);
  long lastAlertAt = KeyState.NEVER;

  void apply(long eventId, long t) {
    lastEventId = Math.max(lastEventId, eventId);
    firstCreateAt = firstCreateAt == KeyState.NEVER ? t : Math.min(firstCreateAt, t);
    lastCreateAt = Math.max(lastCreateAt, t);
    hours.add(t);
    minutes.add(t);
  }

  byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1200);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(lastEventId);
      out.writeLong(firstCreateAt);
      out.writeLong(lastCreateAt);
      out.writeLong(lastAlertAt);
      hours.write(out);
      minutes.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static PartnerState fromBytes(byte[] data) {
    PartnerState s = new PartnerState();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      if (in.readByte() != VERSION) {
        return s;
      }
      s.lastEventId = in.readLong();
      s.firstCreateAt = in.readLong();
      s.lastCreateAt = in.readLong();
      s.lastAlertAt = in.readLong();
      s.hours.read(in);
      s.minutes.read(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return s;
  }
}
