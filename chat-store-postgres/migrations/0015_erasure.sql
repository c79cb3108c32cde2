-- Erasure and retention. A conversation needs its visitor: the foreign key makes a
-- visitor's deletion and a conversation's start exclude each other (the insert
-- key-share-locks the visitor's row; the delete fails while a conversation refers to it).
-- NOT VALID: rows already stored are not checked (no table scan, no long lock); every new
-- one is.
ALTER TABLE conversations ADD CONSTRAINT conversations_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers(id) NOT VALID;

-- Redactions are indexed by their message too, so a conversation's deletion finds them
-- and erases their reasons (as `revise::insert` now writes them).
UPDATE audit_log SET message_id = (entry->'action'->>'message')::uuid
WHERE message_id IS NULL AND entry->'action'->>'type' = 'messageRedacted';
-- Redactions of messages whose conversation was deleted before now lose their reason,
-- as `delete_conversation` now does (chat_core::audit::ERASED_REASON).
UPDATE audit_log
SET entry = jsonb_set(entry, '{action,reason}', '"(erased with its conversation)"')
WHERE entry->'action'->>'type' = 'messageRedacted'
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = audit_log.message_id);

-- The retention pass finds closed conversations by when they were closed. IF NOT EXISTS:
-- on a large table, an operator can build it beforehand with CREATE INDEX CONCURRENTLY
-- (the PostgreSQL README says how) and this migration then takes no long lock.
CREATE INDEX IF NOT EXISTS idx_conversations_closed
  ON conversations(closed_at, id) WHERE status = 'closed';

-- Files of deleted conversations whose bytes are still to be removed, written in the
-- deleting transaction.
CREATE TABLE erased_files (
  id UUID PRIMARY KEY
);
