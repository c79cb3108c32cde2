-- Message counters on each conversation and, with each read cursor, how many messages
-- counted for its reader up to it: an unread count becomes one subtraction instead of a
-- count over the messages. Existing rows are filled in from the messages (the unread rule as
-- of this migration: an agent counts customer messages, a visitor public agent and system
-- messages).
ALTER TABLE conversations
    ADD COLUMN customer_messages bigint NOT NULL DEFAULT 0,
    ADD COLUMN replies bigint NOT NULL DEFAULT 0;
ALTER TABLE read_cursors ADD COLUMN counted bigint NOT NULL DEFAULT 0;

UPDATE conversations c SET
    customer_messages = (SELECT count(*) FROM messages m
        WHERE m.conversation_id = c.id AND m.sender_type = 'customer' AND NOT m.private),
    replies = (SELECT count(*) FROM messages m
        WHERE m.conversation_id = c.id AND m.sender_type <> 'customer' AND NOT m.private);

UPDATE read_cursors r SET counted = (SELECT count(*) FROM messages m
    WHERE m.conversation_id = r.conversation_id AND m.seq <= r.last_read_seq
      AND CASE WHEN r.user_type = 'customer'
               THEN m.sender_type <> 'customer' AND NOT m.private
               ELSE m.sender_type = 'customer' END);
