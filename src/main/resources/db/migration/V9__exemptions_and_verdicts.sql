-- Partner exceptions ("exemptions" in code): a finding that matches one still scores its event but
-- raises no alert. Every criterion given must match; NULL criteria match anything. Deleting one
-- only deactivates it, so its match count stays for the record.
CREATE TABLE exemptions (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id       TEXT NOT NULL REFERENCES partners (id),
  rule             TEXT NOT NULL,                       -- detector id, or a threshold's name
  key_id           TEXT,                                -- exact key, or
  key_prefix       TEXT,                                -- every key starting with it
  source_ip_cidr   TEXT,                                -- normalised: host bits zero, explicit prefix
  actor            TEXT,
  expires_at       TIMESTAMPTZ,                         -- NULL: until deleted
  reason           TEXT NOT NULL,
  active           BOOLEAN NOT NULL DEFAULT true,
  matched          BIGINT NOT NULL DEFAULT 0,           -- findings muted by it, counted by the detectors
  last_matched_at  TIMESTAMPTZ,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (key_id IS NULL OR key_prefix IS NULL)
);
CREATE INDEX exemptions_by_partner ON exemptions (partner_id, id);

-- The partner's verdict on an alert, given when acknowledging it.
ALTER TABLE alerts
  ADD COLUMN resolution TEXT CHECK (resolution IN ('true_positive', 'false_positive', 'benign')),
  ADD COLUMN note TEXT,
  ADD COLUMN resolved_at TIMESTAMPTZ;
-- GET /api/v1/detectors counts a partner's alerts of the last 30 days per rule: a range on
-- triggered_at within the partner, grouped afterwards (rule as second column would make every
-- call walk the partner's whole alert history).
CREATE INDEX alerts_by_time ON alerts (partner_id, triggered_at);
