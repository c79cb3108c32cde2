-- Offline email. A visitor's address, with the secret of its unsubscribe link and whether it
-- unsubscribed, and the last time a socket of the visitor's was open (sockets refresh it).
ALTER TABLE customers
  ADD COLUMN email TEXT,
  ADD COLUMN email_token TEXT,
  ADD COLUMN email_unsubscribed BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN last_seen TIMESTAMP WITH TIME ZONE,
  ADD CONSTRAINT customers_email_has_token CHECK ((email IS NULL) = (email_token IS NULL));

-- The email pass's change-feed cursor (no row before the first pass).
CREATE TABLE email_cursor (
  id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
  position BIGINT NOT NULL
);

-- One notice per conversation with an agent reply: the newest reply seen, when the notice
-- is next looked at (NULL: nothing pending), when the last email went out, and until when
-- a pass deciding it holds its claim (also the claim's token).
CREATE TABLE email_notices (
  conversation_id UUID PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  due_at TIMESTAMP WITH TIME ZONE,
  emailed_at TIMESTAMP WITH TIME ZONE,
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_until TIMESTAMP WITH TIME ZONE
);
-- Only pending notices are indexed: the due list never reads settled ones.
CREATE INDEX idx_email_notices_due ON email_notices (due_at) WHERE due_at IS NOT NULL;
