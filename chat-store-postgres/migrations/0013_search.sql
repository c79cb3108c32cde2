-- Search. Each message's words (chat_core::search::words, computed by the server, so that
-- every store finds the same messages) as a tsvector of verbatim lexemes with a GIN index,
-- written in the statement that stores the message. Messages stored before this migration
-- have no words yet (NULL): the server fills them with its own rule when it connects
-- (`fill_search_words`), so this migration is quick and locks nothing for long. Visitors
-- are found by the address they left.
ALTER TABLE messages ADD COLUMN words tsvector;
CREATE INDEX idx_messages_words ON messages USING gin (words);
CREATE INDEX idx_customers_email ON customers (email) WHERE email IS NOT NULL;
-- Newest-first results in (timestamp, id) order: for a word most messages hold, walking this
-- index and checking each message's words stops after a page, instead of sorting them all.
CREATE INDEX idx_messages_timestamp_id ON messages (timestamp DESC, id DESC);
