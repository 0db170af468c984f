-- A plan is more than a per-key rate: so that minting keys cannot multiply it, a partner also has a
-- ceiling over all its keys and a cap on active keys. NULL means the node default
-- (rate_limit.partner_multiplier x the per-key limit; rate_limit.max_active_keys).
ALTER TABLE partners
  ADD COLUMN partner_rate_limit_per_min INTEGER CHECK (partner_rate_limit_per_min > 0),
  ADD COLUMN max_active_keys            INTEGER CHECK (max_active_keys > 0);
