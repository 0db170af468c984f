-- Ids are unique in every weekly-partitioned table (one sequence each, and the partition key); say so
-- for deliveries and alerts, whose actors look rows up by id alone, so that the planner knows it
-- whatever the statistics. With a plain index on id, a week's partition vacuumed but not yet analyzed
-- (autovacuum does one after the other, ~0.6 s apart under load; a new week's partition has no
-- statistics at all) estimated "id = ANY(276 ids) AND claimed_by = node" at a thousand rows, and the
-- recording of webhook attempts read the whole partition for each batch: 40-200 ms a statement, back
-- to back, a core taken from ingest (auto_explain under scripts/bench webhooks). A unique index makes
-- it one row per id. A partitioned table's unique index must hold the partition key: id is it.
DROP INDEX deliveries_by_id;
CREATE UNIQUE INDEX deliveries_by_id ON deliveries (id);
DROP INDEX alerts_by_id;
CREATE UNIQUE INDEX alerts_by_id ON alerts (id);
