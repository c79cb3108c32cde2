-- The chat schema: the seed's tables (conversations, messages, participants, attachments;
-- same column names and CHECKs where the seed has them) plus what the design needs:
-- the event log, per-conversation seqs, idempotency, read cursors, admins, customers and
-- sessions (token hashes only). Every query of PostgresStore has an index here.

CREATE TABLE conversations (
  id UUID PRIMARY KEY,
  status VARCHAR(20) NOT NULL DEFAULT 'waiting' CHECK (status IN ('active', 'closed', 'waiting')),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  closed_at TIMESTAMP WITH TIME ZONE,
  customer_ip INET,
  metadata JSONB NOT NULL DEFAULT '{}',
  customer_id UUID NOT NULL,
  assignee_id UUID,
  last_seq BIGINT NOT NULL DEFAULT 0,
  last_customer_message_seq BIGINT NOT NULL DEFAULT 0,
  last_reply_seq BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX idx_conversations_status ON conversations(status);
CREATE INDEX idx_conversations_created_at ON conversations(created_at DESC);
-- The inbox list: newest activity first, keyset pagination on (updated_at, id).
CREATE INDEX idx_conversations_updated ON conversations(updated_at DESC, id DESC);
CREATE INDEX idx_conversations_customer ON conversations(customer_id, updated_at DESC);
CREATE INDEX idx_conversations_assignee ON conversations(assignee_id, updated_at DESC);

-- The log: one row per event, seq gap-free per conversation.
CREATE TABLE events (
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL CHECK (seq > 0),
  timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
  kind JSONB NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE messages (
  id UUID PRIMARY KEY,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  -- The seed's NOT NULL sender_id: the system sends as the nil UUID.
  sender_id UUID NOT NULL,
  sender_type VARCHAR(10) NOT NULL CHECK (sender_type IN ('customer', 'admin', 'system')),
  content TEXT NOT NULL,
  timestamp TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  -- Read state lives in read_cursors (per reader); the seed's per-message flag cannot
  -- express "read by whom", so it is derived instead of stored.
  metadata JSONB NOT NULL DEFAULT '{}',
  client_message_id TEXT,
  client_timestamp TIMESTAMP WITH TIME ZONE,
  private BOOLEAN NOT NULL DEFAULT FALSE,
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, sender_type, sender_id, client_message_id)
);

CREATE INDEX idx_messages_conversation ON messages(conversation_id, seq DESC);
CREATE INDEX idx_messages_timestamp ON messages(timestamp DESC);

CREATE TABLE participants (
  id UUID PRIMARY KEY,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id UUID NOT NULL,
  user_type VARCHAR(10) NOT NULL CHECK (user_type IN ('customer', 'admin')),
  joined_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (conversation_id, user_type, user_id)
);

CREATE INDEX idx_participants_conversation ON participants(conversation_id);
CREATE INDEX idx_participants_user ON participants(user_id, user_type);

CREATE TABLE attachments (
  id UUID PRIMARY KEY,
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  message_id UUID REFERENCES messages(id) ON DELETE CASCADE,
  file_url TEXT NOT NULL,
  file_type VARCHAR(50) NOT NULL CHECK (file_type IN ('image', 'document')),
  content_type TEXT NOT NULL,
  file_size BIGINT NOT NULL CHECK (file_size >= 0),
  file_name TEXT NOT NULL,
  uploader_type VARCHAR(10) NOT NULL CHECK (uploader_type IN ('customer', 'admin', 'system')),
  uploader_id UUID NOT NULL,
  private BOOLEAN NOT NULL DEFAULT FALSE,
  uploaded_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_attachments_message ON attachments(message_id);
CREATE INDEX idx_attachments_conversation ON attachments(conversation_id);
CREATE INDEX idx_attachments_unlinked ON attachments(uploaded_at) WHERE message_id IS NULL;

CREATE TABLE read_cursors (
  conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_type VARCHAR(10) NOT NULL CHECK (user_type IN ('customer', 'admin')),
  user_id UUID NOT NULL,
  last_read_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_type, user_id)
);

CREATE TABLE admins (
  id UUID PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  permissions JSONB NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  disabled BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE customers (
  id UUID PRIMARY KEY,
  identifier TEXT UNIQUE,
  verified BOOLEAN NOT NULL DEFAULT FALSE,
  user_agent TEXT,
  location_data JSONB NOT NULL DEFAULT '{}',
  first_seen TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE TABLE sessions (
  token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
  subject_type VARCHAR(10) NOT NULL CHECK (subject_type IN ('admin', 'visitor')),
  subject_id UUID NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX idx_sessions_subject ON sessions(subject_type, subject_id);
