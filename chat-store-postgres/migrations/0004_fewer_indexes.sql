-- Indexes no query uses, each one more entry to write with every message: messages'
-- (conversation_id, seq DESC) repeats the UNIQUE (conversation_id, seq) index (a B-tree
-- reads either way), and nothing orders messages, or conversations, by their timestamps
-- alone. The conversation row still changes an indexed column (updated_at) with every
-- message, so its update cannot be HOT: the inbox list is ordered by it.
DROP INDEX IF EXISTS idx_messages_conversation;
DROP INDEX IF EXISTS idx_messages_timestamp;
DROP INDEX IF EXISTS idx_conversations_created_at;
-- Participants: the UNIQUE (conversation_id, user_type, user_id) index serves lookups by
-- conversation as well.
DROP INDEX IF EXISTS idx_participants_conversation;
