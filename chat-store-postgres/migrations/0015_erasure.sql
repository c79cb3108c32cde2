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

-- Files of deleted conversations whose bytes are still to be removed, written in the
-- deleting transaction.
CREATE TABLE erased_files (
  id UUID PRIMARY KEY
);
