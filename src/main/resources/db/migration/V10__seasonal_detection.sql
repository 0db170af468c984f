-- One incident per (key, rule) per window: a finding that escalates inside it raises the open alert
-- in place; escalated_from keeps the severity it had, escalated_at when (event time).
ALTER TABLE alerts ADD COLUMN escalated_from TEXT CHECK (escalated_from IN ('warning')),
                   ADD COLUMN escalated_at TIMESTAMPTZ;

-- A key's volume and off-hours baselines learn until its observed signings span the learning period,
-- its new-source detectors until its accesses, exports and signings do (whatever its creation date
-- says); the keys listing shows those states from these columns.
ALTER TABLE keys ADD COLUMN first_signed_at TIMESTAMPTZ,
                 ADD COLUMN last_signed_at TIMESTAMPTZ,
                 ADD COLUMN first_used_at TIMESTAMPTZ,
                 ADD COLUMN last_used_at TIMESTAMPTZ;
UPDATE keys k SET first_signed_at = s.first_signed, last_signed_at = s.last_signed,
                  first_used_at = s.first_used, last_used_at = s.last_used
FROM (SELECT partner_id, key_id,
             min(occurred_at) FILTER (WHERE canonical_type = 'sign') AS first_signed,
             max(occurred_at) FILTER (WHERE canonical_type = 'sign') AS last_signed,
             min(occurred_at) AS first_used, max(occurred_at) AS last_used
      FROM events WHERE canonical_type IN ('access', 'export', 'sign') GROUP BY partner_id, key_id) s
WHERE k.partner_id = s.partner_id AND k.key_id = s.key_id;

-- key_exported is an export (SPEC §3); events stored before the mapping are read as exports too.
UPDATE events SET canonical_type = 'export' WHERE event_type = 'key_exported' AND canonical_type IS NULL;
