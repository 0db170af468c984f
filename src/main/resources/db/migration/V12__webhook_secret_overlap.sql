-- After a rotation the replaced webhook secret keeps signing (a second v1 entry of Standard
-- Webhooks' webhook-signature) until previous_secret_until, so receivers can switch secrets
-- without refusing deliveries in between. Sealed like webhook_secret_enc.
ALTER TABLE partners
  ADD COLUMN previous_webhook_secret_enc BYTEA,
  ADD COLUMN previous_secret_until       TIMESTAMPTZ;
