-- Keeps the request role's view (0002) in step with the rules added since: a visitor never
-- reads label changes (the team's notes), and a blocked visitor reads nothing. (The
-- conversations.labels column stays readable to the role: column grants cannot tell a
-- visitor from an agent; the engine leaves it out of every visitor's view.)
CREATE OR REPLACE FUNCTION chat_may_read(conversation_customer uuid, conversation_assignee uuid)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT CASE chat_principal_kind()
    WHEN 'visitor' THEN conversation_customer = chat_principal_id() AND NOT EXISTS (
      SELECT 1 FROM customers k WHERE k.id = chat_principal_id() AND k.blocked_at IS NOT NULL)
    WHEN 'admin' THEN EXISTS (
      SELECT 1 FROM admins a
      WHERE a.id = chat_principal_id() AND NOT a.disabled
        AND (a.permissions->>'scope' = 'all' OR conversation_assignee = a.id))
    ELSE false
  END
$$;

DROP POLICY readable ON events;
CREATE POLICY readable ON events FOR SELECT TO chat_request
  USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = events.conversation_id)
         AND (chat_is_staff() OR (NOT coalesce((kind->'message'->>'private')::boolean, false)
                                  AND kind->>'type' <> 'labelsChanged')));
