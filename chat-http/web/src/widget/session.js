// The visitor's session, kept in localStorage so a returning visitor sees their
// conversation: the token, the customer id, the identity it was made for and the current
// conversation.
import { request } from '../shared/api.js';

const KEY = 'chat.visitor.v1';

export function storedSession(identifier) {
  try {
    const session = JSON.parse(localStorage.getItem(KEY));
    return session && (session.identifier ?? null) === identifier ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

/** A new visitor session (verified when the embedding site passed an identity). */
export async function startSession({ identifier, identifierHash }) {
  const body = { userAgent: navigator.userAgent.slice(0, 512) };
  if (identifier) Object.assign(body, { identifier, identifierHash });
  const { token, customerId } = await request('/api/sessions/visitor', { method: 'POST', body });
  return { token, customerId, identifier, conversationId: null };
}

/** Starts the visitor's conversation, noting the page it came from. */
export async function startConversation(token) {
  const metadata = document.referrer ? { page: document.referrer.slice(0, 500) } : {};
  const { conversation } = await request('/api/conversations', { method: 'POST', token, body: { metadata } });
  return conversation.id;
}
