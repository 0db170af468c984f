-- Idempotency-Key: what a creating request answered, so that its retry gets the same answer and
-- stores nothing new. A row commits in the same transaction as what the request created.
CREATE TABLE idempotency_keys (
  scope         TEXT NOT NULL,                          -- partner:<id>, or address:<client> for registration
  idem_key      TEXT NOT NULL,
  request_hash  TEXT NOT NULL,                          -- SHA-256 of method, path and body, hex
  status        INTEGER NOT NULL,
  response      BYTEA,                                  -- the answer's body, sealed (it may hold an API key);
                                                        -- NULL for an ingest until its answer is known
  event_ids     BIGINT[],                               -- an ingest's events, to rebuild a lost answer
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, idem_key)
);
-- Keys expire after 24 hours: the sweep deletes by age.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
