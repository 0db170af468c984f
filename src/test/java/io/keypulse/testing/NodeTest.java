package io.keypulse.testing;

import io.keypulse.KeyPulseNode;
import io.keypulse.db.PgTarget;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** A test class with one node of its own: a fresh database, HTTP on a free port, a one-member cluster. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class NodeTest {
  protected KeyPulseNode node;
  protected Api api;
  protected Db db;

  /** The node's settings; a test class may change them. */
  protected Map<String, Object> settings(PgTarget pg) {
    return TestNode.defaults(pg, "test-" + UUID.randomUUID());
  }

  @BeforeAll
  void startNode() {
    PgTarget pg = TestPostgres.freshDatabase();
    node = TestNode.start(settings(pg));
    api = new Api(node.port());
    db = new Db(pg);
  }

  @AfterAll
  void stopNode() {
    node.close();
  }
}
