-- Partners (tenants) and their API keys. Only a SHA-256 of each key is kept.
CREATE TABLE partners (
  id                  TEXT PRIMARY KEY,                 -- p_ + 8 hex
  name                TEXT NOT NULL,
  webhook_url         TEXT,
  webhook_secret_enc  BYTEA NOT NULL,                   -- AES-GCM under the master key: nonce || ciphertext
  rate_limit_per_min  INTEGER CHECK (rate_limit_per_min > 0),   -- NULL: the node default
  status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id    TEXT NOT NULL REFERENCES partners (id),
  name          TEXT,
  prefix        TEXT NOT NULL,                          -- first 12 characters, enough to recognise a key
  key_hash      BYTEA NOT NULL UNIQUE,
  minted_by     TEXT NOT NULL CHECK (minted_by IN ('registration', 'partner', 'operator')),
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at  TIMESTAMPTZ,
  revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_by_partner ON api_keys (partner_id, id);

-- Every accepted event. id increases in commit order: writers serialise on an advisory lock.
CREATE TABLE events (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id      TEXT NOT NULL,
  key_id          TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  canonical_type  TEXT,
  severity        TEXT NOT NULL CHECK (severity IN ('nominal', 'warning', 'critical')),
  score           REAL,
  source_ip       TEXT,
  actor           TEXT,
  details         JSONB NOT NULL,
  occurred_at     TIMESTAMPTZ NOT NULL,                 -- event time (partner's clock, or the commit time)
  created_at      TIMESTAMPTZ NOT NULL                  -- commit time
);
CREATE INDEX events_by_partner ON events (partner_id, id);
CREATE INDEX events_by_key ON events (partner_id, key_id, id);
-- Warnings and criticals are few; dashboards ask for them most.
CREATE INDEX events_flagged ON events (partner_id, severity, id) WHERE severity <> 'nominal';

-- One row per key, maintained by every flush so that listing keys never scans events.
CREATE TABLE keys (
  id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id            TEXT NOT NULL,
  key_id                TEXT NOT NULL,
  name                  TEXT,
  key_type              TEXT,
  event_count           BIGINT NOT NULL,
  first_event_at        TIMESTAMPTZ NOT NULL,           -- earliest event time
  last_activity         TIMESTAMPTZ NOT NULL,           -- latest event time
  created_event_at      TIMESTAMPTZ,                    -- latest key_created event time
  deleted_event_at      TIMESTAMPTZ,                    -- latest key_deleted event time
  last_rotated          TIMESTAMPTZ,
  rotation_policy_days  INTEGER CHECK (rotation_policy_days > 0),   -- NULL: the partner's policy
  business_hours        JSONB,
  UNIQUE (partner_id, key_id)
);

-- Counters behind GET /api/stats: one row per partner and one for everyone (scope '*').
CREATE TABLE stats_totals (
  scope         TEXT PRIMARY KEY,
  total_keys    BIGINT NOT NULL DEFAULT 0,
  total_events  BIGINT NOT NULL DEFAULT 0,
  nominal       BIGINT NOT NULL DEFAULT 0,
  warning       BIGINT NOT NULL DEFAULT 0,
  critical      BIGINT NOT NULL DEFAULT 0
);

-- Arrivals per minute, for events_24h; rows older than a day are pruned.
CREATE TABLE stats_arrivals (
  scope   TEXT NOT NULL,
  minute  TIMESTAMPTZ NOT NULL,
  events  BIGINT NOT NULL,
  PRIMARY KEY (scope, minute)
);
