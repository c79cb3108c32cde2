-- Blocked visitors: when an agent blocked them (their sessions are refused from then on).
-- The partial index holds only the blocked few, so listing them reads no other visitor.
ALTER TABLE customers ADD COLUMN blocked_at TIMESTAMPTZ;
CREATE INDEX idx_customers_blocked ON customers (blocked_at DESC) WHERE blocked_at IS NOT NULL;
