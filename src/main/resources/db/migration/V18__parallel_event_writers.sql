-- Group commits run on several connections at once and still commit in id order, so that event ids
-- keep increasing in commit order (SPEC §3) while the costly part of a flush, the insert of its events,
-- no longer waits for the flush before it. Until now every flush held the cluster's write lock
-- (7317001) from its start to its commit: one Postgres backend did all of the cluster's writing, and
-- batch ingest stopped at that backend's core (README, Benchmarks).
--
-- A flush now:
--   1. draws its ids as one block and a ticket (keypulse_claim_event_ids), under a lock held only
--      for that moment, and holds its ticket's lock until it ends;
--   2. inserts its events (ids given, not drawn row by row) and its rule matches: new rows only, so
--      flushes never wait for each other here;
--   3. waits until every flush that drew before it has ended, committed or rolled back, then takes
--      the write lock (keypulse_await_earlier_flushes);
--   4. updates what flushes share (keys, stats, idempotency keys), and commits.
-- Step 3 makes the commits follow the order in which ids were drawn. A flush waits only for flushes
-- that drew before it, which never wait for it, so the waits cannot form a cycle; and what flushes
-- share is locked only after step 3, so no row lock can close one either. The detector shards'
-- verdict batches take the write lock as before (VerdictSql), so they still never run beside step 4.

DROP FUNCTION keypulse_lock_event_writers();

-- Tickets only tell flushes apart (the flushes in flight are found in pg_locks, not by counting), so
-- gaps after a crash do no harm. A ticket is an advisory lock (7317004, ticket): two int keys.
CREATE SEQUENCE events_flush_ticket_seq MAXVALUE 2147483647 CYCLE;

-- Draws n consecutive ids (from the week's base on the first draw of a new week, V15) and a ticket,
-- and notes the tickets of the flushes still in flight, all of which drew earlier. The lock is a
-- session lock, released before returning, on error too, so that no failure leaves it held.
CREATE FUNCTION keypulse_claim_event_ids(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  base bigint := keypulse_week_base(statement_timestamp());
  first_id bigint;
  ticket int;
  earlier int[];
BEGIN
  PERFORM pg_advisory_lock(7317003);
  BEGIN
    IF (SELECT last_value FROM events_id_seq) < base THEN
      PERFORM setval('events_id_seq', base, false);
    END IF;
    first_id := nextval('events_id_seq');
    IF n > 1 THEN
      PERFORM setval('events_id_seq', first_id + n - 1);
    END IF;
    ticket := nextval('events_flush_ticket_seq');
    SELECT coalesce(array_agg(objid::text::int), '{}') INTO earlier FROM pg_locks
      WHERE locktype = 'advisory' AND classid = 7317004 AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted;
    PERFORM pg_advisory_xact_lock(7317004, ticket);
  EXCEPTION WHEN OTHERS OR query_canceled THEN
    PERFORM pg_advisory_unlock(7317003);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(7317003);
  PERFORM set_config('keypulse.first_event_id', first_id::text, true);
  PERFORM set_config('keypulse.earlier_flushes', earlier::text, true);
  RETURN first_id;
END $$;

-- Waits for the flushes that drew before this one (a shared lock on each ticket is granted once its
-- flush has ended), then takes the cluster's write lock for the shared rows.
CREATE FUNCTION keypulse_await_earlier_flushes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  ticket int;
BEGIN
  FOREACH ticket IN ARRAY current_setting('keypulse.earlier_flushes')::int[] LOOP
    PERFORM pg_advisory_xact_lock_shared(7317004, ticket);
  END LOOP;
  PERFORM pg_advisory_xact_lock(7317001);
END $$;
