// The visitor's session, kept in localStorage so a returning visitor sees their
// conversation: the token, the customer id, the identity it was made for and the current
// conversation.
import { request } from '../shared/api.js';

const KEY = 'chat.visitor.v1';

/** The stored session for `identifier`; never one the host page signed in (it has no token). */
export function storedSession(identifier) {
  const session = stored();
  return session && !session.host && (session.identifier ?? null) === identifier ? session : null;
}

function stored() {
  try {
    return JSON.parse(localStorage.getItem(KEY));
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

/**
 * Keeps the session for the next visit. A host-signed session is kept without its token
 * (only which conversation was open): the host page hands a token over on every visit, and
 * a page of the host's that signed the visitor out must not find one.
 */
export function saveSession(session) {
  if (!session) localStorage.removeItem(KEY);
  else if (session.host) localStorage.setItem(KEY, JSON.stringify({ ...session, token: null }));
  else localStorage.setItem(KEY, JSON.stringify(session));
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
 * is, how long the token has left (by the server's clock), and the conversation `current`
 * had open when it is the same visitor (a renewed token), else the one last open for it in
 * this browser.
 */
export async function hostSession(token, current) {
  const { role, customerId, expiresIn } = await request('/api/session', { token });
  if (role !== 'visitor') throw new Error('the page signed in someone who is not a visitor');
  const known = [current, stored()].find((session) => session?.host && session.customerId === customerId);
  const conversationId = known?.conversationId ?? null;
  return { token, customerId, identifier: null, conversationId, host: true, expiresIn };
}

/** The soonest a host token is renewed after it arrived, whatever it says. */
const MIN_RENEWAL_MS = 5_000;
/** The longest a browser timer waits. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * How long after it arrived a host token is renewed: halfway through what it had left by
 * the server's clock (so a browser clock that is off, or a token cached by the page, does
 * not matter), never sooner than a few seconds.
 */
export function renewalDelay(expiresIn) {
  return Math.min(MAX_TIMER_MS, Math.max(MIN_RENEWAL_MS, (expiresIn * 1000) / 2));
}

/** Starts the visitor's conversation, noting the page it came from. */
export async function startConversation(token) {
  const metadata = document.referrer ? { page: document.referrer.slice(0, 500) } : {};
  const { conversation } = await request('/api/conversations', { method: 'POST', token, body: { metadata } });
  return conversation.id;
}
