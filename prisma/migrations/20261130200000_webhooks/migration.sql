-- Webhook endpoints, each with its own cursor into change_event and its deliveries.
--
-- The signing secret (whsec_...) must be recoverable to sign each delivery, so it is stored encrypted
-- (AES-256-GCM under KEYWARDEN_SECRET_KEY, bound to the endpoint's id), never in clear: see README, Webhooks.
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

CREATE TABLE webhook_endpoint (
  id                UUID         PRIMARY KEY,
  url               TEXT         NOT NULL,
  -- change_event types this endpoint receives
  events            TEXT[]       NOT NULL,
  description       TEXT         NOT NULL DEFAULT '',
  secret_ciphertext TEXT         NOT NULL,
  enabled           BOOLEAN      NOT NULL DEFAULT true,
  -- Why it was disabled: by an admin, or after 24 hours of failed deliveries (the last error).
  disabled_reason   TEXT,
  disabled_at       TIMESTAMPTZ(3),
  created_by        TEXT         NOT NULL,
  created_at        TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

-- Where an endpoint stands in change_event, in its (txid, seq) order. A new endpoint starts at the oldest
-- transaction still open when it was created: every event committed before is behind it, none after is.
CREATE TABLE webhook_cursor (
  endpoint_id UUID           PRIMARY KEY REFERENCES webhook_endpoint(id) ON DELETE CASCADE,
  txid        xid8           NOT NULL DEFAULT pg_snapshot_xmin(pg_current_snapshot()),
  seq         BIGINT         NOT NULL DEFAULT 0,
  -- Held by the one delivery job walking this cursor (a lease, so a dead worker's lapses): events go out in order.
  leased_until TIMESTAMPTZ(3),
  updated_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

-- One row per event and endpoint, written when the cursor passes the event (same transaction), so an
-- event is never skipped nor delivered twice over. The payload is kept as first built: a retry or a
-- redelivery sends the same bytes under the same message id.
CREATE TABLE webhook_delivery (
  id              UUID           PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id     UUID           NOT NULL REFERENCES webhook_endpoint(id) ON DELETE CASCADE,
  -- The Standard Webhooks webhook-id: msg_ and a digest of the endpoint and the event
  message_id      TEXT           NOT NULL,
  -- The event's place in change_event (txid as a number): deliveries of an endpoint go out in this order.
  event_txid      BIGINT         NOT NULL,
  event_seq       BIGINT         NOT NULL,
  event_type      TEXT           NOT NULL,
  occurred_at     TIMESTAMPTZ(3) NOT NULL,
  payload         JSONB          NOT NULL,
  status          "WebhookDeliveryStatus" NOT NULL DEFAULT 'PENDING',
  attempts        INTEGER        NOT NULL DEFAULT 0,
  response_status INTEGER,
  error           TEXT,
  next_attempt_at TIMESTAMPTZ(3),
  -- Retries stop (and the endpoint is disabled) after this: 24 hours after the first failed attempt.
  retry_until     TIMESTAMPTZ(3),
  last_attempt_at TIMESTAMPTZ(3),
  delivered_at    TIMESTAMPTZ(3),
  created_at      TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX webhook_delivery_message ON webhook_delivery (endpoint_id, message_id);
CREATE INDEX webhook_delivery_by_endpoint ON webhook_delivery (endpoint_id, event_txid DESC, event_seq DESC);
CREATE INDEX webhook_delivery_pending ON webhook_delivery (endpoint_id, event_txid, event_seq) WHERE status = 'PENDING';
