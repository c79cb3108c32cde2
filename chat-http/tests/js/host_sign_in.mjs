// Drives a running chat-server that takes the host application's JWTs (started with
// CHAT_JWT_SECRET, CHAT_JWT_PUBLIC_KEY=../keys/rsa.pub.pem, CHAT_JWT_ISSUER and
// CHAT_JWT_AUDIENCE as below) with the stock socket.io-client, over the websocket and the
// polling transports: host tokens connect agents and visitors; every refusal rule is a
// connect_error "authentication required"; a disabled agent's socket closes and its fresh
// token is refused; a demotion in the next token takes an open socket out of a room; a
// socket closes when its token expires. Prints "N passed, M failed" and exits non-zero on
// failure. Tokens are signed here with node:crypto, as a host application would.
//
// Run with: CHAT_URL=… CHAT_JWT_SECRET=… CHAT_ADMIN_EMAIL=… CHAT_ADMIN_PASSWORD=… node host_sign_in.mjs
import assert from "node:assert/strict";
import { createHmac, createPrivateKey, sign as signWith } from "node:crypto";
import { readFileSync } from "node:fs";
import { ask, connect, next, ownerToken, rest, run } from "./client.mjs";

const SECRET = process.env.CHAT_JWT_SECRET;
const ISSUER = process.env.CHAT_JWT_ISSUER ?? "https://host.test";
const AUDIENCE = process.env.CHAT_JWT_AUDIENCE ?? "support-chat";
const keys = new URL("../keys/", import.meta.url);
const RSA = createPrivateKey(readFileSync(new URL("rsa.pem", keys)));
const OTHER_RSA = createPrivateKey(readFileSync(new URL("other-rsa.pem", keys)));
const ED = createPrivateKey(readFileSync(new URL("ed25519.pem", keys)));

const now = () => Math.floor(Date.now() / 1000);
const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
let serial = 0;

/// A JWT over `claims`, signed as `alg` says (HS256/HS512 with `secret`, RS256 and EdDSA
/// with `key`).
function jwt(claims, { alg = "HS256", secret = SECRET, key = RSA } = {}) {
  const body = `${encode({ alg, typ: "JWT" })}.${encode(claims)}`;
  const signature = {
    HS256: () => createHmac("sha256", secret).update(body).digest(),
    HS512: () => createHmac("sha512", secret).update(body).digest(),
    RS256: () => signWith("sha256", Buffer.from(body), key),
    EdDSA: () => signWith(null, Buffer.from(body), key),
  }[alg]();
  return `${body}.${signature.toString("base64url")}`;
}

function claims(role, extra = {}) {
  const sub = `${role}-${process.pid}-${++serial}`;
  const base = { sub, role, name: "Host User", email: `${sub}@host.test`, iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 3600 };
  return Object.fromEntries(Object.entries({ ...base, ...extra }).filter(([, value]) => value !== undefined));
}

async function signsIn(transports) {
  const agent = await connect(jwt(claims("agent")), transports);
  agent.close();
  const visitorToken = jwt(claims("visitor"), { alg: "RS256" });
  const created = await rest("POST", "/api/conversations", visitorToken, {});
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const visitor = await connect(visitorToken, transports);
  try {
    const joined = await ask(visitor, "conversation:join", { conversationId: created.json.conversation.id, since: 0 });
    assert.ok(Array.isArray(joined.events), JSON.stringify(joined));
  } finally {
    visitor.close();
  }
}

function refusedTokens() {
  const agent = claims("agent");
  const visitor = claims("visitor");
  const visitorToken = jwt(visitor);
  const [header, , signature] = visitorToken.split(".");
  return [
    ["a bad signature", jwt(agent, { secret: "another secret, also long enough" })],
    ["a forged RS256 signature", jwt(agent, { alg: "RS256", key: OTHER_RSA })],
    ["alg: none", `${encode({ alg: "none", typ: "JWT" })}.${encode(agent)}.`],
    ["HS512, not the configured HS256", jwt(agent, { alg: "HS512" })],
    ["EdDSA, not configured", jwt(agent, { alg: "EdDSA", key: ED })],
    ["expired", jwt({ ...agent, exp: now() - 120 })],
    ["without iat", jwt({ ...agent, iat: undefined })],
    ["iat in the future", jwt({ ...agent, iat: now() + 600 })],
    ["not yet valid", jwt({ ...agent, nbf: now() + 600 })],
    ["a wrong issuer", jwt({ ...agent, iss: "https://evil.test" })],
    ["a wrong audience", jwt({ ...agent, aud: "another-app" })],
    ["a visitor's token changed to claim role agent", `${header}.${encode({ ...visitor, role: "agent" })}.${signature}`],
    ["a visitor's token claiming permissions", jwt({ ...visitor, permissions: { scope: "all", manageConversations: true, manageAdmins: true } })],
  ];
}

async function refusals(transports) {
  for (const [name, token] of refusedTokens()) {
    await assert.rejects(connect(token, transports), /authentication required/, name);
    const reply = await rest("GET", "/api/session", token);
    assert.equal(reply.status, 401, `${name}: ${JSON.stringify(reply.json)}`);
    assert.equal(reply.json.error.code, "unauthenticated", name);
  }
}

async function disabledAgent(transports) {
  const identity = claims("agent");
  const token = jwt(identity);
  const session = await rest("GET", "/api/session", token);
  assert.equal(session.status, 200, JSON.stringify(session.json));
  const socket = await connect(token, transports);
  const closed = next(socket, "disconnect");
  const patched = await rest("PATCH", `/api/admins/${session.json.admin.id}`, await ownerToken(), { disabled: true });
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  await closed;
  await assert.rejects(connect(jwt({ ...identity, iat: now() + 1 }), transports), /authentication required/);
}

async function demotion(transports) {
  const everything = { scope: "all", manageConversations: true, manageAdmins: false };
  const assignedOnly = { scope: "assigned", manageConversations: true, manageAdmins: false };
  const identity = claims("agent", { permissions: everything, iat: now() - 5 });
  const visitorToken = jwt(claims("visitor"));
  const created = await rest("POST", "/api/conversations", visitorToken, {});
  const conversationId = created.json.conversation.id;
  const socket = await connect(jwt(identity), transports);
  try {
    await ask(socket, "conversation:join", { conversationId, since: 0 });
    const left = next(socket, "conversation:left");
    const narrowed = await rest("GET", "/api/session", jwt({ ...identity, permissions: assignedOnly, iat: now() }));
    assert.equal(narrowed.json.admin.permissions.scope, "assigned", JSON.stringify(narrowed.json));
    assert.equal((await left).conversationId, conversationId);
  } finally {
    socket.close();
  }
}

async function expiry(transports) {
  const socket = await connect(jwt(claims("visitor", { exp: now() + 3 })), transports);
  const opened = Date.now();
  await next(socket, "disconnect", () => true, 15_000);
  assert.ok(Date.now() - opened >= 1_500, "closed long before the token expired");
}

if (!SECRET) {
  console.log("SKIPPED: CHAT_JWT_SECRET is not set (run against a server started with it)");
  process.exit(1);
}
const tests = [];
for (const transports of [["websocket"], ["polling"]]) {
  const name = transports.join("+");
  tests.push([`host tokens sign in over ${name}`, () => signsIn(transports)]);
  tests.push([`every refusal rule over ${name}`, () => refusals(transports)]);
  tests.push([`a disabled agent is closed and refused over ${name}`, () => disabledAgent(transports)]);
  tests.push([`a demotion in the next token narrows an open socket over ${name}`, () => demotion(transports)]);
  tests.push([`a socket closes when its token expires over ${name}`, () => expiry(transports)]);
}

await run(tests);
