package io.keypulse.detect;

import static io.keypulse.detect.KeyHistory.HOUR;
import static io.keypulse.detect.KeyHistory.MINUTE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Checkpoint bytes")
class KeyStateCodecTest {
  static final long NOW = Instant.parse("2026-11-18T12:00:00Z").toEpochMilli();

  @Test
  @DisplayName("a checkpoint of the first format becomes today's state: its week of signings, sets and last alerts")
  void legacy() throws IOException {
    TimeBuckets hours = new TimeBuckets(HOUR, 169);
    TimeBuckets minutes = new TimeBuckets(MINUTE, 60);
    for (long h = NOW - 168 * HOUR; h < NOW; h += HOUR) {
      for (int i = 0; i < 6; i++) {
        hours.add(h + i * 10 * MINUTE);
        minutes.add(h + i * 10 * MINUTE);
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(1);
      for (long v : new long[] {900, 1010, NOW - 168 * HOUR, NOW - 10 * MINUTE, 1008, NOW - 10 * MINUTE,
          NOW - 30 * KeyState.DAY, KeyState.NEVER, KeyState.NEVER, KeyState.NEVER}) {
        out.writeLong(v);
      }
      out.writeBoolean(true);
      hours.write(out);
      minutes.write(out);
      out.writeShort(2);
      out.writeInt(RecentSet.fingerprint("10.0.0.5"));
      out.writeInt(RecentSet.fingerprint("10.0.0.6"));
      out.writeShort(1);
      out.writeInt(RecentSet.fingerprint("tx-processor"));
      out.writeShort(2);
      out.writeUTF("signing_volume_spike/warning");
      out.writeLong(NOW - 2 * HOUR);
      out.writeUTF("signing_volume_spike/critical");
      out.writeLong(NOW - HOUR);
      out.writeShort(0);
    }
    KeyState s = KeyStateCodec.read(bytes.toByteArray());
    assertThat(s.lastEventId).isEqualTo(900);
    assertThat(s.signing.hours(0, Long.MAX_VALUE)).isEqualTo(1008);
    assertThat(s.signing.trailingHour(NOW - 10 * MINUTE)).isEqualTo(6);
    assertThat(s.signingLearning(KeyHistory.DEFAULTS)).as("a week of signings").isFalse();
    assertThat(s.ips.contains("10.0.0.6")).isTrue();
    assertThat(s.actors.contains("tx-processor")).isTrue();
    assertThat(s.incidents.get("signing_volume_spike").severity).isEqualTo("critical");
    assertThat(s.incidents.get("signing_volume_spike").raisedAt).isEqualTo(NOW - HOUR);
    assertThat(KeyStateCodec.read(KeyStateCodec.write(s)).signing.hours(0, Long.MAX_VALUE)).isEqualTo(1008);
  }

  @Test
  @DisplayName("an unknown format reads as no checkpoint, so the key is rebuilt from the event log")
  void unknown() {
    assertThat(KeyStateCodec.read(new byte[] {9, 0, 0})).isNull();
  }
}
