-- Workspace labels and canned replies, and the labels on a conversation.
--
-- A conversation's labels are part of its row (kept by chat_core::log::apply like every
-- other column, from the `labelsChanged` events of its log), so the inbox list filters on
-- them with no join. Adding the column with a constant default rewrites no rows.
ALTER TABLE conversations ADD COLUMN labels uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX idx_conversations_labels ON conversations USING gin (labels);

-- Names are unique ignoring case; the lower-cased form is computed by chat-core (the same
-- rule on every backend) and stored beside the name.
CREATE TABLE labels (
  id UUID PRIMARY KEY,
  title TEXT NOT NULL,
  title_key TEXT NOT NULL UNIQUE,
  color TEXT,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE canned_replies (
  id UUID PRIMARY KEY,
  short_code TEXT NOT NULL,
  short_code_key TEXT NOT NULL UNIQUE,
  content TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
