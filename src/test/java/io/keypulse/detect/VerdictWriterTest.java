package io.keypulse.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.keypulse.config.Config;
import io.keypulse.db.Migrations;
import io.keypulse.db.PgTarget;
import io.keypulse.db.Pools;
import io.keypulse.testing.Db;
import io.keypulse.testing.TestPostgres;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The verdict writer")
class VerdictWriterTest {

  @Test
  @DisplayName("a slot checkpointed twice while a write is in flight is written once, with its newest state")
  void repeatedCheckpointsOfOneOwner() {
    PgTarget pg = TestPostgres.freshDatabase();
    Migrations.apply(pg);
    Db db = new Db(pg);
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = Pools.write(vertx, new Config.Pg(pg.url(), 0, List.of(), 1, 1, 2000, 3000, 1000, 1000, 30000), pg);
      VerdictWriter writer = new VerdictWriter(vertx, pool);
      Promise<Void> drained = Promise.promise();
      // The writer is event-loop confined. The first checkpoint starts a write; the next two queue
      // behind it and go out together, as a slot's checkpoints do when a write is slow.
      vertx.getOrCreateContext().runOnContext(v -> {
        writer.checkpoint(checkpoint("k:p/a", 1, "one"));
        writer.checkpoint(checkpoint("k:p/a", 2, "two"));
        writer.checkpoint(checkpoint("k:p/b", 5, "b"));
        writer.checkpoint(checkpoint("k:p/a", 3, "three"));
        writer.drain().onComplete(drained);
      });
      drained.future().await();
      List<Long> lastIds = db.column("SELECT last_event_id FROM detector_state WHERE owner = 'k:p/a'");
      assertThat(lastIds).containsExactly(3L);
      assertThat(db.count("SELECT count(*) FROM detector_state WHERE owner = 'k:p/b' AND last_event_id = 5"))
          .isEqualTo(1);
      assertThat(db.count("SELECT count(*) FROM detector_state WHERE owner = 'k:p/a' AND state = 'three'::bytea"))
          .as("the newest state, not the first queued").isEqualTo(1);
    } finally {
      vertx.close().await();
    }
  }

  private static VerdictWriter.Checkpoint checkpoint(String owner, long lastEventId, String state) {
    return new VerdictWriter.Checkpoint(owner, lastEventId, state.getBytes(StandardCharsets.UTF_8));
  }
}
