-- Events, alerts, deliveries and delivery attempts live in weekly partitions, so that retention
-- drops whole partitions and every query reads only the weeks it asks about.
--
-- Ids are the partition key, and they are weekly: week w (counted from Monday 1970-01-05, UTC)
-- owns the ids [w * 2^36, (w + 1) * 2^36). Each table's sequence is moved to its week's base the
-- first time it is used in that week, so ids still increase in commit order (events) or insert
-- order (the others), stay integers a JavaScript client reads exactly (< 2^53 for 2 500 years),
-- and say which week a row was written in: any lookup by id, id range or id list reads one week's
-- partition, and a time bound becomes an id bound by arithmetic (io.keypulse.db.Weeks).
--
-- Existing rows stay where they are: each old table becomes its table's "legacy" partition (ids
-- below this week's base), attached without copying. Every growing table's primary key leads with
-- partner_id, ready to be distributed by partner (README, Scaling).

CREATE FUNCTION keypulse_week(t timestamptz) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT floor((extract(epoch FROM t) - 345600) / 604800)::bigint $$;

CREATE FUNCTION keypulse_week_base(t timestamptz) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT keypulse_week(t) << 36 $$;

-- A row's id: the sequence's next value, moved to this week's base first if the week is new (one
-- caller does it, under a lock held only at that moment; the others find it moved).
CREATE FUNCTION keypulse_next_id(seq regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  base bigint := keypulse_week_base(now());
  v bigint := nextval(seq);
BEGIN
  IF v >= base THEN
    RETURN v;
  END IF;
  PERFORM pg_advisory_xact_lock(7317002, seq::oid::int);
  v := nextval(seq);
  IF v < base THEN
    PERFORM setval(seq, base, false);
    v := nextval(seq);
  END IF;
  RETURN v;
END $$;

-- The same move for events, once per group commit: the flush holds the cluster's write lock, so
-- nobody else draws from the sequence meanwhile, and its rows keep the plain nextval default.
CREATE FUNCTION keypulse_week_jump(seq regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  base bigint := keypulse_week_base(statement_timestamp());
  last bigint;
BEGIN
  EXECUTE format('SELECT last_value FROM %s', seq) INTO last;
  IF last < base THEN
    PERFORM setval(seq, base, false);
  END IF;
END $$;

-- Weekly partitions of a table from this week to weeks_ahead weeks on; returns how many it made.
CREATE FUNCTION keypulse_ensure_partitions(tbl text, weeks_ahead int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  w bigint;
  made int := 0;
BEGIN
  FOR w IN keypulse_week(now()) .. keypulse_week(now()) + weeks_ahead LOOP
    IF to_regclass(format('%s_w%s', tbl, w)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                     format('%s_w%s', tbl, w), tbl, w::bigint << 36, (w::bigint + 1) << 36);
      made := made + 1;
    END IF;
  END LOOP;
  RETURN made;
END $$;

-- The old tables' rows keep their ids and their place: each table becomes a partitioned one with
-- the old table attached as its legacy partition.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_alert_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;

-- events
ALTER TABLE events RENAME TO events_legacy;
ALTER TABLE events_legacy ALTER COLUMN id DROP IDENTITY;
ALTER TABLE events_legacy DROP CONSTRAINT events_pkey;
DROP INDEX events_by_partner, events_by_key, events_flagged;
CREATE SEQUENCE events_id_seq;
SELECT setval('events_id_seq', coalesce((SELECT max(id) FROM events_legacy), 0) + 1, false);
CREATE TABLE events (LIKE events_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (id);
ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
ALTER SEQUENCE events_id_seq OWNED BY events.id;
ALTER TABLE events ADD PRIMARY KEY (partner_id, id);
CREATE INDEX events_by_key ON events (partner_id, key_id, id);
CREATE INDEX events_flagged ON events (partner_id, severity, id) WHERE severity <> 'nominal';

-- alerts: one per (event, rule) was a unique index, which a table partitioned by id cannot have
-- across partitions; the detectors' inserts run under the cluster's write lock and skip a pair
-- that exists (VerdictSql), and this index finds it.
ALTER TABLE alerts RENAME TO alerts_legacy;
ALTER TABLE alerts_legacy ALTER COLUMN id DROP IDENTITY;
ALTER TABLE alerts_legacy DROP CONSTRAINT alerts_pkey;
DROP INDEX alerts_by_partner, alerts_by_key, alerts_once_per_event, alerts_by_time;
CREATE SEQUENCE alerts_id_seq;
SELECT setval('alerts_id_seq', coalesce((SELECT max(id) FROM alerts_legacy), 0) + 1, false);
CREATE TABLE alerts (LIKE alerts_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (id);
ALTER TABLE alerts ALTER COLUMN id SET DEFAULT keypulse_next_id('alerts_id_seq');
ALTER SEQUENCE alerts_id_seq OWNED BY alerts.id;
ALTER TABLE alerts ADD PRIMARY KEY (partner_id, id);
CREATE INDEX alerts_by_key ON alerts (partner_id, key_id, rule, id);
CREATE INDEX alerts_by_event ON alerts (partner_id, event_id, rule) WHERE event_id IS NOT NULL;
CREATE INDEX alerts_by_time ON alerts (partner_id, triggered_at);
-- By id alone: a webhook's alert (Outbox), a repeat or an escalation of the one found by key and rule.
CREATE INDEX alerts_by_id ON alerts (id);

-- deliveries
ALTER TABLE deliveries RENAME TO deliveries_legacy;
ALTER TABLE deliveries_legacy ALTER COLUMN id DROP IDENTITY;
ALTER TABLE deliveries_legacy DROP CONSTRAINT deliveries_pkey;
DROP INDEX deliveries_due, deliveries_leased, deliveries_by_partner, deliveries_finished;
CREATE SEQUENCE deliveries_id_seq;
SELECT setval('deliveries_id_seq', coalesce((SELECT max(id) FROM deliveries_legacy), 0) + 1, false);
CREATE TABLE deliveries (LIKE deliveries_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)
  PARTITION BY RANGE (id);
ALTER TABLE deliveries ALTER COLUMN id SET DEFAULT keypulse_next_id('deliveries_id_seq');
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;
ALTER TABLE deliveries ADD PRIMARY KEY (partner_id, id);
ALTER TABLE deliveries ADD FOREIGN KEY (rule_id) REFERENCES rules (id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND claimed_by IS NULL;
CREATE INDEX deliveries_leased ON deliveries (claim_until) WHERE status = 'pending' AND claimed_by IS NOT NULL;
CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE status <> 'pending';
-- The outbox's gauges (pending by node, the oldest's age) read pending rows only, not every week's rows.
CREATE INDEX deliveries_pending ON deliveries (claimed_by, created_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_alert ON deliveries (alert_id) WHERE alert_id IS NOT NULL AND payload IS NULL;
-- By id alone: the delivery actors claim, renew, record and release rows by id.
CREATE INDEX deliveries_by_id ON deliveries (id);
-- An event's webhooks (an ingest's answer rebuilt for a repeated Idempotency-Key counts its rule matches).
CREATE INDEX deliveries_by_event ON deliveries (partner_id, event_id) WHERE event_id IS NOT NULL;

-- delivery_attempts: partitioned by its delivery's id, so a delivery and its log share a week
-- and go together; partner_id joins its key.
ALTER TABLE delivery_attempts RENAME TO delivery_attempts_legacy;
ALTER TABLE delivery_attempts_legacy ADD COLUMN partner_id TEXT;
UPDATE delivery_attempts_legacy a SET partner_id = d.partner_id FROM deliveries_legacy d WHERE d.id = a.delivery_id;
UPDATE delivery_attempts_legacy SET partner_id = '' WHERE partner_id IS NULL;
ALTER TABLE delivery_attempts_legacy ALTER COLUMN partner_id SET NOT NULL;
ALTER TABLE delivery_attempts_legacy DROP CONSTRAINT delivery_attempts_pkey;
CREATE TABLE delivery_attempts (LIKE delivery_attempts_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (delivery_id);
ALTER TABLE delivery_attempts ADD PRIMARY KEY (partner_id, delivery_id, attempt);

-- keys grows with a partner's fleet: its key leads with partner_id too; the scheduler's sweeps page
-- through all keys by id.
ALTER TABLE keys DROP CONSTRAINT keys_pkey;
ALTER TABLE keys ADD PRIMARY KEY (partner_id, id);
CREATE INDEX keys_by_id ON keys (id);

-- Attach each legacy table below this week's base, and make this week's and the next two weeks'
-- partitions; the scheduler's leader keeps making them ahead (and drops them past retention).
DO $$
DECLARE
  base bigint := keypulse_week_base(now());
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'alerts', 'deliveries'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (id < %s)', t || '_legacy', t || '_legacy_range', base);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)', t, t || '_legacy', base);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t || '_legacy', t || '_legacy_range');
  END LOOP;
  EXECUTE format('ALTER TABLE delivery_attempts_legacy ADD CONSTRAINT delivery_attempts_legacy_range CHECK (delivery_id < %s)', base);
  EXECUTE format('ALTER TABLE delivery_attempts ATTACH PARTITION delivery_attempts_legacy FOR VALUES FROM (MINVALUE) TO (%s)', base);
  ALTER TABLE delivery_attempts_legacy DROP CONSTRAINT delivery_attempts_legacy_range;
END $$;

SELECT keypulse_ensure_partitions(t, 2) FROM unnest(ARRAY['events', 'alerts', 'deliveries', 'delivery_attempts']) AS t;
