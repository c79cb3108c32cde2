-- The change feed: every event gets a position, given by the writing transaction just
-- before it commits from a one-row counter. The counter's row lock is held from that
-- statement to the commit, so positions commit (and become visible) in order: a reader
-- that sees position p already sees every smaller one. Existing events get positions in
-- timestamp order (each conversation's in seq order).
CREATE TABLE change_feed_head (
  id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
  position BIGINT NOT NULL
);

ALTER TABLE events ADD COLUMN position BIGINT;

WITH timed AS (
  SELECT conversation_id, seq,
         max(timestamp) OVER (PARTITION BY conversation_id ORDER BY seq) AS at
  FROM events
), ordered AS (
  SELECT conversation_id, seq, row_number() OVER (ORDER BY at, conversation_id, seq) AS position
  FROM timed
)
UPDATE events e SET position = o.position
FROM ordered o WHERE e.conversation_id = o.conversation_id AND e.seq = o.seq;

ALTER TABLE events ALTER COLUMN position SET NOT NULL;
CREATE UNIQUE INDEX idx_events_position ON events(position);
INSERT INTO change_feed_head (position) SELECT coalesce(max(position), 0) FROM events;

-- Webhook endpoints, with where their delivery stands and the claim a delivery pass holds.
CREATE TABLE webhooks (
  id UUID PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT[],
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_until TIMESTAMP WITH TIME ZONE,
  disabled TEXT,
  cursor BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMP WITH TIME ZONE,
  claim_token UUID,
  claimed_until TIMESTAMP WITH TIME ZONE,
  -- Counts agents' changes: a delivery pass that claimed an older one writes nothing back.
  generation BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- The delivery log: one row per attempt.
CREATE TABLE webhook_deliveries (
  id UUID PRIMARY KEY,
  webhook_id UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  position BIGINT NOT NULL,
  message_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at TIMESTAMP WITH TIME ZONE NOT NULL,
  status INTEGER,
  error TEXT,
  duration_ms BIGINT NOT NULL,
  outcome TEXT NOT NULL
);

CREATE INDEX idx_webhook_deliveries ON webhook_deliveries(webhook_id, id DESC);
