-- Search. Each message's words (chat_core::search::words, computed by the server, so that
-- every store finds the same messages) as a tsvector of verbatim lexemes with a GIN index,
-- written in the statement that stores the message. Existing messages are filled here by
-- the same rule in SQL (exact for ASCII text; `chat-server reindex` recomputes every row
-- with the server's rule). Visitors are found by the address they left.
ALTER TABLE messages ADD COLUMN words tsvector NOT NULL DEFAULT ''::tsvector;
UPDATE messages
SET words = array_to_tsvector(array_remove(
  regexp_split_to_array(lower(content), '[^[:alnum:]]+'), ''));
CREATE INDEX idx_messages_words ON messages USING gin (words);
CREATE INDEX idx_customers_email ON customers (email) WHERE email IS NOT NULL;
