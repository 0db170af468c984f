-- The key's last event before the latest flush that touched it, written by that flush's upsert, so
-- that the flush learns each key's previous event from the row it updates anyway instead of
-- looking every key up a second time (Postgres 17's RETURNING has no OLD values).
ALTER TABLE keys ADD COLUMN prior_event_id BIGINT NOT NULL DEFAULT 0;
