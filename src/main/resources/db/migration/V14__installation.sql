-- One row naming this database for good: every member of a cluster must write to the same one,
-- and a joining member compares this id (as a digest) with the cluster's, whatever URL spelling it
-- was given (ClusterIdentity).
CREATE TABLE installation (
  only_row    BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  id          UUID NOT NULL DEFAULT gen_random_uuid(),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO installation DEFAULT VALUES;
