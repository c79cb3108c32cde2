-- no-transaction
-- The retention pass finds closed conversations by when they were closed. Built
-- concurrently (outside a transaction), so appends and new conversations are not blocked
-- while it reads a large table; IF NOT EXISTS lets a run interrupted after it finished
-- be repeated.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_conversations_closed
  ON conversations(closed_at, id) WHERE status = 'closed';
