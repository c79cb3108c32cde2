-- Auto-assignment: each agent's capacity (NULL: no limit), and what a pass reads: the
-- unassigned open conversations, oldest first, and each agent's open conversations (the
-- assignee index serves the count).
ALTER TABLE admins ADD COLUMN capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0);
CREATE INDEX idx_conversations_unassigned ON conversations (created_at, id)
  WHERE assignee_id IS NULL AND status IN ('waiting', 'active');
