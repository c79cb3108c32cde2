-- Snoozed conversations: a status of their own and the time they wake by themselves, kept in
-- the row like every other column (from the log's `snoozed` and `statusChanged` events).
-- The waker finds the due ones through the partial index, whatever the number of others.
ALTER TABLE conversations DROP CONSTRAINT IF EXISTS conversations_status_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_status_check
  CHECK (status IN ('active', 'closed', 'waiting', 'snoozed')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_status_check;
ALTER TABLE conversations ADD COLUMN snoozed_until TIMESTAMPTZ;
CREATE INDEX idx_conversations_snoozed_until ON conversations (snoozed_until)
  WHERE status = 'snoozed' AND snoozed_until IS NOT NULL;
