// Drives a running chat-server with the stock socket.io-client, over the websocket and the
// polling transports: a visitor and an agent exchange messages with acks, typing and read
// receipts; a client that rejoins with `since` gets exactly what it missed; foreign origins
// and bad tokens are refused; sockets follow the current policy (a reassigned agent leaves
// the room, a password change or a block closes the socket); a long conversation joins in full. Prints "N passed, M failed" and exits non-zero on failure.
//
// Run with: CHAT_URL=http://127.0.0.1:8080 CHAT_ADMIN_EMAIL=… CHAT_ADMIN_PASSWORD=… node realtime.mjs
import assert from "node:assert/strict";
import { ADMIN, GUARD_MS, ask, connect, next, ownerToken, rest, run } from "./client.mjs";

async function visitorWithConversation() {
  const session = await rest("POST", "/api/sessions/visitor", null, {});
  assert.equal(session.status, 201);
  const created = await rest("POST", "/api/conversations", session.json.token, {});
  assert.equal(created.status, 201);
  return { token: session.json.token, customerId: session.json.customerId, conversationId: created.json.conversation.id };
}

async function exchange(transports) {
  const { token, conversationId } = await visitorWithConversation();
  const visitor = await connect(token, transports);
  const agent = await connect(await ownerToken(), transports);
  try {
    const joined = await ask(visitor, "conversation:join", { conversationId, since: 0 });
    assert.deepEqual(joined.events.map((e) => e.seq), [1, 2]);
    await ask(agent, "conversation:join", { conversationId, since: joined.lastSeq });

    const arriving = next(agent, "message:new");
    const sent = await ask(visitor, "message:send", { conversationId, message: "Hello from the widget", clientMessageId: "js-1" });
    assert.equal(sent.status, "sent");
    assert.equal(sent.seq, 3);
    const retry = await ask(visitor, "message:send", { conversationId, message: "Hello from the widget", clientMessageId: "js-1" });
    assert.equal(retry.messageId, sent.messageId, "a retry returns the original");
    const received = await arriving;
    assert.equal(received.message.content, "Hello from the widget");
    assert.equal(received.message.senderType, "customer");

    const typing = next(visitor, "typing");
    await ask(agent, "typing", { conversationId, isTyping: true });
    assert.deepEqual(await typing, { conversationId, senderType: "admin", isTyping: true });
    const receipt = next(visitor, "read");
    assert.equal((await ask(agent, "read", { conversationId, seq: 3 })).lastReadSeq, 3);
    assert.equal((await receipt).lastReadSeq, 3);

    const reply = next(visitor, "message:new");
    const answered = await ask(agent, "message:send", { conversationId, message: "How can I help?" });
    assert.equal(answered.status, "sent");
    assert.equal((await reply).message.senderType, "admin");
  } finally {
    visitor.close();
    agent.close();
  }
}

async function resync(transports) {
  const { token, conversationId } = await visitorWithConversation();
  const first = await connect(token, transports);
  const since = (await ask(first, "conversation:join", { conversationId })).lastSeq;
  first.close();
  for (let n = 0; n < 200; n++) {
    const sent = await rest("POST", "/api/messages/send", token, { conversationId, senderType: "customer", message: `away ${n}` });
    assert.equal(sent.status, 200);
  }
  const again = await connect(token, transports);
  try {
    const live = [];
    again.on("message:new", (event) => live.push(event.seq));
    const send = (n) => rest("POST", "/api/messages/send", token, { conversationId, senderType: "customer", message: `live ${n}` });
    // Twenty more arrive while the rejoin is in flight.
    const during = Promise.all(Array.from({ length: 20 }, (_, n) => send(n)));
    const joined = await ask(again, "conversation:join", { conversationId, since });
    for (const sent of await during) assert.equal(sent.status, 200);
    const last = since + 220;
    if (!live.includes(last) && joined.events.at(-1)?.seq !== last) {
      await next(again, "message:new", (event) => event.seq === last);
    }
    const replayed = joined.events.map((e) => e.seq);
    const seqs = [...replayed, ...live.filter((seq) => seq > (replayed.at(-1) ?? since))];
    assert.deepEqual(seqs, Array.from({ length: 220 }, (_, i) => since + 1 + i));
  } finally {
    again.close();
  }
}

/// Resolves when the server closes `socket`; rejects if it stays open.
function disconnected(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("socket stayed open")), GUARD_MS);
    socket.on("disconnect", () => { clearTimeout(timer); resolve(); });
  });
}

async function revocation(transports) {
  const token = await ownerToken();
  const socket = await connect(token, transports);
  const closed = disconnected(socket);
  assert.equal((await rest("POST", "/api/auth/logout", token)).status, 204);
  await closed;
}

async function refusals(transports) {
  const { token, conversationId } = await visitorWithConversation();
  await assert.rejects(connect("f".repeat(64), transports), /authentication required/);
  await assert.rejects(connect(token, transports, { Origin: "https://evil.example" }), /origin/);
  const stranger = await connect((await visitorWithConversation()).token, transports);
  try {
    const refused = await ask(stranger, "conversation:join", { conversationId });
    assert.equal(refused.error.code, "not_found");
  } finally {
    stranger.close();
  }
}

/// Resolves `true` if no `event` satisfying `match` arrives within `ms`.
function quiet(socket, event, match = () => true, ms = 800) {
  return new Promise((resolve) => {
    const listener = (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(false);
    };
    const timer = setTimeout(() => { socket.off(event, listener); resolve(true); }, ms);
    socket.on(event, listener);
  });
}

let agents = 0;

/// A new agent created by the owner: { id, token, password }.
async function newAgent(owner, scope) {
  agents += 1;
  const email = `live-${process.pid}-${agents}@example.com`;
  const password = "a live password 123";
  const permissions = { scope, manageConversations: true, manageAdmins: false };
  const created = await rest("POST", "/api/admins", owner, { email, name: "Live", password, permissions });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const login = await rest("POST", "/api/auth/login", null, { email, password });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  return { id: created.json.admin.id, token: login.json.token };
}

async function ownerId(owner) {
  const admins = await rest("GET", "/api/admins", owner);
  return admins.json.admins.find((admin) => admin.email === ADMIN.email).id;
}

/// Live authorization: a reassigned restricted agent leaves the room and hears nothing more.
async function reassignment(transports) {
  const owner = await ownerToken();
  const narrow = await newAgent(owner, "assigned");
  const { token, conversationId } = await visitorWithConversation();
  const assign = (assigneeId) => rest("POST", `/api/conversations/${conversationId}/assign`, owner, { assigneeId });
  assert.equal((await assign(narrow.id)).status, 200);
  const socket = await connect(narrow.token, transports);
  try {
    const joined = await ask(socket, "conversation:join", { conversationId, since: 0 });
    assert.equal(joined.error, undefined, JSON.stringify(joined));
    const left = next(socket, "conversation:left");
    assert.equal((await assign(await ownerId(owner))).status, 200);
    assert.equal((await left).conversationId, conversationId);
    const silent = quiet(socket, "message:new");
    const note = { conversationId, senderType: "admin", message: "private", private: true };
    assert.equal((await rest("POST", "/api/messages/send", owner, note)).status, 200);
    const visible = { conversationId, senderType: "customer", message: "after" };
    assert.equal((await rest("POST", "/api/messages/send", token, visible)).status, 200);
    assert.ok(await silent, "a message reached a socket that lost access");
  } finally {
    socket.close();
  }
}

/// A password change closes the agent's open sockets.
async function passwordChange(transports) {
  const owner = await ownerToken();
  const agent = await newAgent(owner, "all");
  const socket = await connect(agent.token, transports);
  const closed = disconnected(socket);
  const changed = await rest("PATCH", `/api/admins/${agent.id}`, owner, { password: "another password 456" });
  assert.equal(changed.status, 200, JSON.stringify(changed.json));
  await closed;
}

/// Blocking a visitor closes its open socket and refuses a new one with `visitor_blocked`.
async function blocking(transports) {
  const { token, customerId } = await visitorWithConversation();
  const socket = await connect(token, transports);
  const closed = disconnected(socket);
  const owner = await ownerToken();
  const blocked = await rest("POST", `/api/visitors/${customerId}/block`, owner);
  assert.equal(blocked.status, 200, JSON.stringify(blocked.json));
  await closed;
  await assert.rejects(connect(token, transports), /visitor_blocked/);
  assert.equal((await rest("DELETE", `/api/visitors/${customerId}/block`, owner)).status, 200);
  (await connect(token, transports)).close();
}

/// A 600-message conversation joined from 0 arrives whole: the ack's events, then the rest
/// as live events, every seq once and in order.
async function longJoin(transports) {
  const { token, conversationId } = await visitorWithConversation();
  for (let n = 0; n < 600; n++) {
    const body = { conversationId, senderType: "customer", message: `${n} ${"z".repeat(400)}` };
    assert.equal((await rest("POST", "/api/messages/send", token, body)).status, 200);
  }
  const { json } = await rest("GET", `/api/conversations/${conversationId}`, token);
  const last = json.conversation.lastSeq;
  assert.ok(last > 600, `lastSeq ${last}`);
  const socket = await connect(token, transports);
  try {
    const live = [];
    socket.on("message:new", (event) => live.push(event.seq));
    const done = next(socket, "message:new", (event) => event.seq === last);
    const joined = await ask(socket, "conversation:join", { conversationId, since: 0 });
    const replayed = joined.events.map((e) => e.seq);
    assert.equal(joined.hasMore, joined.lastSeq < last);
    if (replayed.at(-1) !== last) await done;
    assert.deepEqual([...replayed, ...live], Array.from({ length: last }, (_, i) => i + 1));
  } finally {
    socket.close();
  }
}

/// Requests made while a long catch-up streams in are all acknowledged, on one connection.
async function acksDuringCatchUp(transports) {
  const { token, conversationId } = await visitorWithConversation();
  for (let n = 0; n < 1500; n++) {
    const body = { conversationId, senderType: "customer", message: `${n} ${"c".repeat(300)}` };
    assert.equal((await rest("POST", "/api/messages/send", token, body)).status, 200);
  }
  const socket = await connect(token, transports);
  try {
    let dropped = false;
    socket.on("disconnect", () => { dropped = true; });
    const joined = await ask(socket, "conversation:join", { conversationId, since: 0 });
    assert.equal(joined.hasMore, true);
    const acks = [];
    for (let n = 0; n < 20; n++) {
      acks.push(ask(socket, "read", { conversationId, seq: joined.lastSeq }));
    }
    for (const ack of await Promise.all(acks)) assert.equal(ack.lastReadSeq, joined.lastSeq);
    assert.equal(dropped, false, "the connection was dropped during the catch-up");
  } finally {
    socket.close();
  }
}

const tests = [];
for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  const name = transports.join("+");
  tests.push([`exchange over ${name}`, () => exchange(transports)]);
  tests.push([`resync over ${name}`, () => resync(transports)]);
  tests.push([`refusals over ${name}`, () => refusals(transports)]);
  tests.push([`logout closes the socket over ${name}`, () => revocation(transports)]);
  tests.push([`reassignment takes a restricted agent out of the room over ${name}`, () => reassignment(transports)]);
  tests.push([`a password change closes the socket over ${name}`, () => passwordChange(transports)]);
  tests.push([`blocking a visitor closes its socket over ${name}`, () => blocking(transports)]);
  tests.push([`a 600-message conversation joins in full over ${name}`, () => longJoin(transports)]);
  tests.push([`requests during a long catch-up are acknowledged over ${name}`, () => acksDuringCatchUp(transports)]);
}

await run(tests);
