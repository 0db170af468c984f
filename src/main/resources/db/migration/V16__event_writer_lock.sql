-- A group commit opened with two statements: the cluster's write lock, then keypulse_week_jump, whose
-- dynamic SQL Postgres parses and plans again on every call. One call now, its statements planned
-- once per session: on small flushes (single-event ingest) every statement of the fixed part counts.
CREATE FUNCTION keypulse_lock_event_writers() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  base bigint := keypulse_week_base(statement_timestamp());
BEGIN
  -- Serialises writers across the cluster, so that event ids increase in commit order.
  PERFORM pg_advisory_xact_lock(7317001);
  -- Under it, nobody else draws from the sequence: the ids of a new week start at its base (V15).
  IF (SELECT last_value FROM events_id_seq) < base THEN
    PERFORM setval('events_id_seq', base, false);
  END IF;
END $$;
