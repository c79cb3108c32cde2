-- The audit log: append-only entries (chat_core::audit::AuditEntry as JSON), in id order
-- (UUIDv7, so time order). `message_id` is set on entries that keep a message's text, so
-- that a redaction finds and erases them; no other statement changes an entry.
CREATE TABLE audit_log (
  id UUID PRIMARY KEY,
  at TIMESTAMP WITH TIME ZONE NOT NULL,
  entry JSONB NOT NULL,
  message_id UUID
);
CREATE INDEX idx_audit_log_message ON audit_log (message_id) WHERE message_id IS NOT NULL;
