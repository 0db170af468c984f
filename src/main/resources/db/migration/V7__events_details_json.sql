-- Event details are stored as the partner sent them (json, not jsonb): no conversion on the ingest
-- path, which is the store's bottleneck, and the partner's own member order and number spelling
-- come back in queries and webhooks. Nothing indexes or searches inside details.
ALTER TABLE events ALTER COLUMN details TYPE json USING details::json;
