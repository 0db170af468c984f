-- At every start, after the migrations: this week's and the next two weeks' partitions exist
-- before any node writes (the scheduler's leader keeps them ahead while the cluster runs).
SELECT keypulse_ensure_partitions(t, 2) FROM unnest(ARRAY['events', 'alerts', 'deliveries', 'delivery_attempts']) AS t;
