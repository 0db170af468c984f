-- Partner alert rules: every ingested event whose type matches (raw or canonical, * for all)
-- is delivered to the rule's webhook. Deactivated rules stay, with their delivery history.
CREATE TABLE rules (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id        TEXT NOT NULL REFERENCES partners (id),
  name              TEXT NOT NULL,
  event_type_match  TEXT NOT NULL,
  webhook_url       TEXT NOT NULL,
  severity          TEXT NOT NULL CHECK (severity IN ('nominal', 'warning', 'critical')),
  is_active         BOOLEAN NOT NULL DEFAULT true,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
  deactivated_at    TIMESTAMPTZ
);
CREATE INDEX rules_active_by_partner ON rules (partner_id) WHERE is_active;

-- The outbox: one row per webhook to send, committed with what caused it (the event for a rule
-- match, the alert for a partner webhook). The body is built from that row, which does not change,
-- so every attempt sends the same bytes; only test sends store theirs (payload). delivery_id is
-- stable across attempts, for the receiver to deduplicate.
CREATE TABLE deliveries (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id      UUID NOT NULL DEFAULT gen_random_uuid(),
  partner_id       TEXT NOT NULL,
  rule_id          BIGINT REFERENCES rules (id),
  alert_id         BIGINT REFERENCES alerts (id),
  event_id         BIGINT,
  event            TEXT NOT NULL,     -- rule_match, anomaly_detected, rotation_overdue, threshold_breach, test
  url              TEXT NOT NULL,
  -- scheme://host[:port], the unit of the per-endpoint concurrency limit
  endpoint         TEXT GENERATED ALWAYS AS
                   (coalesce(lower(substring(url FROM '^[A-Za-z]+://[^/?#]+')), url)) STORED,
  payload          TEXT,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  attempt_base     INTEGER NOT NULL DEFAULT 0,   -- attempts before the last replay: retries count from there
  next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  claimed_by       TEXT,              -- the node sending it now, until claim_until: never two at once
  claim_until      TIMESTAMPTZ,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at      TIMESTAMPTZ
);
-- What a node may claim: pending and nobody's. A claimed row leaves this index, so looking for
-- work never wades through rows other nodes (or this one) are already sending.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND claimed_by IS NULL;
-- Claims whose node stopped renewing them (it died) are found here and handed back.
CREATE INDEX deliveries_leased ON deliveries (claim_until) WHERE status = 'pending' AND claimed_by IS NOT NULL;
CREATE INDEX deliveries_by_partner ON deliveries (partner_id, id);

CREATE TABLE delivery_attempts (
  delivery_id  BIGINT NOT NULL REFERENCES deliveries (id),
  attempt      INTEGER NOT NULL,
  at           TIMESTAMPTZ NOT NULL,
  status_code  INTEGER,
  latency_ms   INTEGER NOT NULL,
  error        TEXT,
  node         TEXT NOT NULL,      -- the cluster member that sent it
  PRIMARY KEY (delivery_id, attempt)
);
