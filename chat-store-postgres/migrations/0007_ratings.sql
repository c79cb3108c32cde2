-- A conversation's satisfaction rating, kept in its row like every other column (from the
-- `rated` events of its log, by chat_core::log::apply), as chat-core serializes it:
-- {score, comment, agent, rated_at, first_rated_at} with times in microseconds. The report
-- reads only rated rows, by rating time.
ALTER TABLE conversations ADD COLUMN rating JSONB;
CREATE INDEX idx_conversations_rated_at ON conversations (((rating->>'rated_at')::bigint))
  WHERE rating IS NOT NULL;
