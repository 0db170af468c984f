-- A partner-dialect event sent without severity gets the one its score implies.
ALTER TABLE events ADD COLUMN severity_derived BOOLEAN NOT NULL DEFAULT false;

-- When the key last raised rotation_overdue (at most once a day).
ALTER TABLE keys ADD COLUMN rotation_alerted_at TIMESTAMPTZ;

-- Per-partner detection policy: only the fields the partner changed; defaults come from config.
CREATE TABLE policies (
  partner_id  TEXT PRIMARY KEY REFERENCES partners (id),
  policy      JSONB NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Partner-defined caps: count of event_type per key over a sliding window.
CREATE TABLE thresholds (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id   TEXT NOT NULL REFERENCES partners (id),
  name         TEXT NOT NULL,
  event_type   TEXT NOT NULL,
  key_id       TEXT,                                    -- NULL: every key of the partner
  threshold    INTEGER NOT NULL CHECK (threshold > 0),
  time_window  TEXT NOT NULL CHECK (time_window IN ('1h', '24h', '7d')),
  warn_at_pct  INTEGER NOT NULL CHECK (warn_at_pct BETWEEN 1 AND 100),
  active       BOOLEAN NOT NULL DEFAULT true,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX thresholds_by_partner ON thresholds (partner_id, id);

-- Alerts raised by detectors and thresholds, with the evidence a human needs to judge them.
CREATE TABLE alerts (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id    TEXT NOT NULL,
  key_id        TEXT NOT NULL,
  rule          TEXT NOT NULL,                          -- detector id, or the threshold's name
  kind          TEXT NOT NULL CHECK (kind IN ('anomaly_detected', 'rotation_overdue', 'threshold_breach')),
  severity      TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
  description   TEXT NOT NULL,
  evidence      JSONB NOT NULL,
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acked')),
  repeat_count  INTEGER NOT NULL DEFAULT 0,
  event_id      BIGINT,                                 -- the event that triggered it (NULL: the scheduler)
  triggered_at  TIMESTAMPTZ NOT NULL,                   -- event time of the trigger
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_repeat_at TIMESTAMPTZ,
  acked_at      TIMESTAMPTZ
);
CREATE INDEX alerts_by_partner ON alerts (partner_id, id);
CREATE INDEX alerts_by_key ON alerts (partner_id, key_id, rule, id);
-- Detecting an event twice (after a crash) must not raise its alerts twice.
CREATE UNIQUE INDEX alerts_once_per_event ON alerts (event_id, rule) WHERE event_id IS NOT NULL;

-- Detector state checkpoints: a key's (or a partner's) behavioural state as of last_event_id.
-- A new owner loads it and replays the events after last_event_id from the events table.
CREATE TABLE detector_state (
  owner          TEXT PRIMARY KEY,                      -- k:<partner>/<key> or p:<partner>
  last_event_id  BIGINT NOT NULL,
  state          BYTEA NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Events below this id are all scored; the scheduler rescues unscored ones above it.
CREATE TABLE detection_watermark (
  singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
  event_id   BIGINT NOT NULL
);
INSERT INTO detection_watermark (event_id) VALUES (0);
