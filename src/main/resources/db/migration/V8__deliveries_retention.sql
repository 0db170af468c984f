-- Finished deliveries by age, for the retention sweep (the outbox would otherwise only grow).
CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE status <> 'pending';
