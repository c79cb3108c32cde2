-- Defense in depth: row-level security for a non-owner request role, with the policies the
-- design brief asks for instead of the seed's (which denied customers their replies, let
-- any customer row open every conversation, trusted inet_client_addr() — the server's own
-- address — and left attachments unprotected).
--
-- The engine connects as the owner and is not subject to these policies; it authorizes in
-- chat-core. A connection that switches to `chat_request` (SET ROLE chat_request) and names
-- its principal with `SET chat.principal = 'visitor:<uuid>'` or `'admin:<uuid>'` sees only
-- what that principal may read: a visitor, their own conversations without private notes;
-- an agent, every conversation or, if restricted, those assigned to it; nobody else, nothing.
-- The role may only read: every write goes through the engine.

DO $$
BEGIN
  CREATE ROLE chat_request NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;

CREATE FUNCTION chat_principal_kind() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT split_part(coalesce(current_setting('chat.principal', true), ''), ':', 1)
$$;

-- NULL (so nothing matches) unless the setting carries a well-formed UUID.
CREATE FUNCTION chat_principal_id() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    THEN id::uuid END
  FROM split_part(coalesce(current_setting('chat.principal', true), ''), ':', 2) AS id
$$;

-- Whether the current principal may read a conversation with this customer and assignee.
-- SECURITY DEFINER so it can read the agent's permissions without granting the admins
-- table (and its password hashes) to the request role.
CREATE FUNCTION chat_may_read(conversation_customer uuid, conversation_assignee uuid)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT CASE chat_principal_kind()
    WHEN 'visitor' THEN conversation_customer = chat_principal_id()
    WHEN 'admin' THEN EXISTS (
      SELECT 1 FROM admins a
      WHERE a.id = chat_principal_id() AND NOT a.disabled
        AND (a.permissions->>'scope' = 'all' OR conversation_assignee = a.id))
    ELSE false
  END
$$;

CREATE FUNCTION chat_is_staff() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT chat_principal_kind() = 'admin'
$$;

GRANT SELECT ON conversations, events, messages, participants, attachments, read_cursors TO chat_request;
GRANT EXECUTE ON FUNCTION chat_principal_kind(), chat_principal_id(), chat_may_read(uuid, uuid), chat_is_staff() TO chat_request;

ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE read_cursors ENABLE ROW LEVEL SECURITY;

CREATE POLICY readable ON conversations FOR SELECT TO chat_request
  USING (chat_may_read(customer_id, assignee_id));

-- Subqueries on conversations are themselves filtered by its policy.
CREATE POLICY readable ON events FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = events.conversation_id)
         AND (chat_is_staff() OR NOT coalesce((kind->'message'->>'private')::boolean, false)));

CREATE POLICY readable ON messages FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = messages.conversation_id)
         AND (chat_is_staff() OR NOT private));

CREATE POLICY readable ON participants FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = participants.conversation_id));

CREATE POLICY readable ON attachments FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = attachments.conversation_id)
         AND (chat_is_staff() OR uploader_type = 'customer' OR (message_id IS NOT NULL AND NOT private)));

CREATE POLICY readable ON read_cursors FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = read_cursors.conversation_id));
