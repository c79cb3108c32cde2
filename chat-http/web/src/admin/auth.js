// The agent's login, kept in localStorage: the bearer token and who they are. The host
// application may open the dashboard with its own token instead (`/admin#token=…`).
import { request } from '../shared/api.js';

const KEY = 'chat.admin.v1';

export function storedLogin() {
  try {
    return JSON.parse(localStorage.getItem(KEY));
  } catch {
    return null;
  }
}

export async function login(email, password) {
  const answer = await request('/api/auth/login', { method: 'POST', body: { email, password } });
  localStorage.setItem(KEY, JSON.stringify(answer));
  return answer;
}

/**
 * The host application's token the dashboard was opened with (`/admin#token=<token>`, in
 * the fragment so it never reaches a server log); the fragment leaves the address bar at
 * once. Read before anything navigates.
 */
export function tokenFromLink() {
  const hash = window.location.hash;
  if (!hash.startsWith('#token=')) return null;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return decodeURIComponent(hash.slice('#token='.length)) || null;
}

/** Signs the agent in with the host's token: the server says who it is. */
export async function loginWithToken(token) {
  const session = await request('/api/session', { token });
  if (session.role !== 'agent') throw new Error('This sign-in is not an agent\'s.');
  const answer = { token, admin: session.admin, host: true };
  localStorage.setItem(KEY, JSON.stringify(answer));
  return answer;
}

export async function logout(token) {
  localStorage.removeItem(KEY);
  await request('/api/auth/logout', { method: 'POST', token }).catch(() => {});
}

export function forget() {
  localStorage.removeItem(KEY);
}
