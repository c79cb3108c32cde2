// The host application's own sign-in in a real browser: a shop page embeds the widget with
// its token for the signed-in customer (data-token) and a callback that fetches a fresh
// one; the widget renews it before it expires and the conversation goes on after the first
// token's end; the shop's staff open the dashboard with their token, no chat password.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import { send, useWorld } from './harness.mjs';

const SECRET = 'the e2e host secret, long enough for HS256';
// The shop is a real server on loopback (Chromium refuses requests from a page it cannot
// place to a loopback server, the chat here). Its page embeds the widget with a token that
// lives 8 s and a callback that fetches the next from /token.
let issuedAt = 0;
const renewals = [];
const shopServer = createServer((request, response) => {
  if (request.url === '/token') {
    renewals.push(Date.now());
    response.writeHead(200, { 'content-type': 'text/plain' }).end(customer(3600));
    return;
  }
  issuedAt = Date.now();
  response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Shop</title><script>
      window.chatToken = () => fetch('/token').then((response) => response.text());
    </script>
    <script src="${world.server.url}/widget.js" data-token="${customer(8)}" data-token-callback="chatToken"></script>`);
});
await new Promise((listening) => shopServer.listen(0, '127.0.0.1', listening));
const SHOP = `http://127.0.0.1:${shopServer.address().port}`;
const world = useWorld({ CHAT_JWT_SECRET: SECRET, CHAT_ALLOWED_ORIGINS: SHOP });
after(() => shopServer.close());

/** An HS256 token as the shop would sign it. */
function jwt(claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const customer = (lifetime) =>
  jwt({ sub: 'shop-customer-7', role: 'visitor', name: 'Vera Visitor', iat: now(), exp: now() + lifetime });

test("the shop's token signs the visitor in and is renewed; staff open the dashboard with theirs", async () => {
  const context = await world.browser.newContext();
  const shop = await context.newPage();
  await shop.goto(`${SHOP}/`);
  const widget = shop.frameLocator('iframe[title="Chat"]');
  await shop.getByRole('button', { name: /open chat/i }).click();
  await send(widget, 'Signed in by the shop');
  const log = widget.getByRole('log', { name: 'Messages' });
  await log.getByText('Signed in by the shop').waitFor();

  const staff = await world.browser.newContext({ viewport: { width: 1200, height: 800 } });
  const agentToken = jwt({ sub: 'shop-staff-1', role: 'agent', name: 'Sam Staff', email: 'sam@shop.test', iat: now(), exp: now() + 3600 });
  const dashboard = await staff.newPage();
  await dashboard.goto(`${world.server.url}/admin#token=${agentToken}`);
  await dashboard.getByRole('navigation', { name: 'Conversations' }).waitFor();
  assert.ok(!dashboard.url().includes('token='), 'the token stays in the address bar');
  await dashboard.locator('a.conversation').first().click();
  const thread = dashboard.getByRole('log', { name: 'Messages' });
  await thread.getByText('Signed in by the shop').waitFor();

  // Past the first token's end: the widget renewed it, and both ways still work.
  await shop.waitForTimeout(9_000);
  // Asked once, about halfway through the first token's life (the next lives an hour),
  // before the server closed the socket at its end.
  assert.equal(renewals.length, 1, `renewals at ${renewals.map((at) => at - issuedAt)} ms`);
  const after = renewals[0] - issuedAt;
  assert.ok(after > 3_000 && after < 7_500, `renewed ${after} ms after the first token`);
  await send(widget, 'Still here after the first token ended');
  await thread.getByText('Still here after the first token ended').waitFor();
  await send(dashboard, 'Hello Vera, this is Sam');
  await log.getByText('Hello Vera, this is Sam').waitFor();
  await staff.close();
  await context.close();
});
