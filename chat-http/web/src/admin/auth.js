// The agent's login, kept in localStorage: the bearer token and who they are.
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

export async function logout(token) {
  localStorage.removeItem(KEY);
  await request('/api/auth/logout', { method: 'POST', token }).catch(() => {});
}

export function forget() {
  localStorage.removeItem(KEY);
}
