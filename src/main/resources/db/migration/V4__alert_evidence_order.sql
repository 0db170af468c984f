-- Evidence reads best in the order the detector wrote it (baseline, observed, threshold, window,
-- then the details); jsonb sorts keys by length, json keeps them.
ALTER TABLE alerts ALTER COLUMN evidence TYPE json USING evidence::json;
