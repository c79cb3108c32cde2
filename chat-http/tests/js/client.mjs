// What the real-client suites share: the server's address, REST calls, Socket.IO
// connections with acks and awaited events, the owner's login, and the runner that prints
// "N passed, M failed" and exits non-zero on failure.
import assert from "node:assert/strict";
import { io } from "socket.io-client";

export const BASE = process.env.CHAT_URL ?? "http://127.0.0.1:8080";
export const ADMIN = { email: process.env.CHAT_ADMIN_EMAIL, password: process.env.CHAT_ADMIN_PASSWORD };
export const GUARD_MS = 30_000;

export async function rest(method, path, token, body) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${BASE}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

export function connect(token, transports, extraHeaders) {
  const socket = io(BASE, { auth: { token }, transports, extraHeaders, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), GUARD_MS);
    socket.on("connect", () => { clearTimeout(timer); resolve(socket); });
    socket.on("connect_error", (error) => { clearTimeout(timer); socket.close(); reject(error); });
  });
}

export function ask(socket, event, payload) {
  return socket.timeout(GUARD_MS).emitWithAck(event, payload);
}

/// Resolves with the first `event` whose payload satisfies `match`, within `ms`.
export function next(socket, event, match = () => true, ms = GUARD_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} arrived`)), ms);
    const listener = (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });
}

/// The owner's bearer token (CHAT_ADMIN_EMAIL / CHAT_ADMIN_PASSWORD).
export async function ownerToken() {
  const login = await rest("POST", "/api/auth/login", null, ADMIN);
  assert.equal(login.status, 200, JSON.stringify(login.json));
  return login.json.token;
}

/// Runs `[name, test]` pairs in turn and exits with the verdict.
export async function run(tests) {
  let passed = 0;
  let failed = 0;
  for (const [name, test] of tests) {
    try {
      await test();
      passed++;
      console.log(`ok - ${name}`);
    } catch (error) {
      failed++;
      console.log(`not ok - ${name}: ${error.stack ?? error}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
