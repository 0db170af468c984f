-- Detection follows each key's events in commit order: every flush records the key's latest event
-- id (and when it committed), and tells each new event the id of the key's previous event. A shard
-- that receives an event whose predecessor it has not seen reads the missing ones from here.
ALTER TABLE keys ADD COLUMN last_event_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN last_commit_at TIMESTAMPTZ;

-- A checkpoint's last_event_id is now the key's detection watermark; this global one is not needed.
DROP TABLE detection_watermark;
