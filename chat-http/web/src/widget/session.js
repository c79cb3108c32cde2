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

/**
 * The session an email's link back carries (`#resume=<customer>.<token>`, in the fragment so
 * it never reaches a server log): it signs this browser in as that visitor, on the
 * conversation the link names. A browser already signed in as that visitor keeps its own
 * (longer) session and only opens the conversation. The fragment leaves the address bar at
 * once, readable or not.
 */
export function sessionFromLink(identifier, conversationId) {
  if (!window.location.hash.startsWith('#resume=')) return null;
  const match = /^#resume=([0-9a-f-]{36})\.([0-9a-f]{16,128})$/.exec(window.location.hash);
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  if (!match) return null;
  const [, customerId, token] = match;
  const stored = storedSession(identifier);
  const session =
    stored?.customerId === customerId
      ? { ...stored, conversationId }
      : { token, customerId, identifier, conversationId };
  saveSession(session);
  return session;
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

/**
 * The session of a visitor the host page signed in with its token: who the server says it
 * is, and the conversation `current` had open when it is the same visitor (a renewed
 * token), else the one last open for it in this browser.
 */
export async function hostSession(token, current) {
  const { role, customerId } = await request('/api/session', { token });
  if (role !== 'visitor') throw new Error('the page signed in someone who is not a visitor');
  const known = current?.customerId === customerId ? current : storedSession(null);
  const conversationId = known?.customerId === customerId ? known.conversationId : null;
  return { token, customerId, identifier: null, conversationId, host: true };
}

/**
 * How long until a host token should be renewed: halfway to its `exp`, and at least a
 * minute before it (read from the token's payload, which the server verifies; this only
 * schedules). `null` when it carries no `exp`.
 */
export function renewalDelay(token, now = Date.now()) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(payload));
    if (typeof exp !== 'number') return null;
    const left = exp * 1000 - now;
    return Math.max(0, Math.min(left - 60_000, left / 2));
  } catch {
    return null;
  }
}

/** Starts the visitor's conversation, noting the page it came from. */
export async function startConversation(token) {
  const metadata = document.referrer ? { page: document.referrer.slice(0, 500) } : {};
  const { conversation } = await request('/api/conversations', { method: 'POST', token, body: { metadata } });
  return conversation.id;
}
