// Offline email in a real browser: the visitor leaves an address under the conversation
// (the server has it), changes its mind and removes it; an email's link back
// (`/widget?conversation=…#resume=…`) opens that conversation, in the visitor's browser and
// on another device.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWNER, api, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('the visitor leaves an address for replies, and the email link opens its conversation', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  const { widget } = visitor;
  await send(widget, 'Are you open on Sunday?');
  await widget.getByText('Are you open on Sunday?').waitFor();

  await widget.getByRole('button', { name: 'Get replies by email' }).click();
  const form = widget.getByRole('form', { name: 'Get replies by email' });
  await form.getByRole('textbox', { name: 'Your email' }).fill('Me@Example.com');
  await form.getByRole('button', { name: 'Save' }).click();
  await widget.getByText("We'll email replies to me@example.com if you're away.").waitFor();

  const { token } = await api(world.server, '/api/auth/login', null, OWNER);
  const { conversations } = await api(world.server, '/api/conversations/list', token);
  const conversation = conversations[0];
  const { visitor: record } = await api(world.server, `/api/visitors/${conversation.customerId}`, token);
  assert.equal(record.email, 'me@example.com');

  await widget.getByRole('button', { name: 'Change' }).click();
  await form.getByRole('button', { name: 'Remove' }).click();
  await widget.getByRole('button', { name: 'Get replies by email' }).waitFor();
  const { visitor: removed } = await api(world.server, `/api/visitors/${conversation.customerId}`, token);
  assert.equal(removed.email, null);

  // The link back, in the same browser: the conversation opens.
  await widget.getByRole('button', { name: 'Your conversations' }).click();
  await widget.getByRole('button', { name: 'Start a new conversation' }).click();
  await send(widget, 'A second question');
  await widget.getByText('A second question').waitFor();
  const link = await visitor.context.newPage();
  await link.goto(`${world.server.url}/widget?conversation=${conversation.id}`);
  await link.getByText('Are you open on Sunday?').waitFor();
  assert.equal(await link.getByText('A second question').count(), 0);
  await visitor.context.close();
});

test('an email link signs the visitor in on another device, and leaves no token in the address bar', async () => {
  const { token, customerId } = await api(world.server, '/api/sessions/visitor', null, {});
  const { conversation } = await api(world.server, '/api/conversations', token, {});
  await api(world.server, '/api/messages/send', token, { conversationId: conversation.id, senderType: 'customer', message: 'Sent from my laptop' });
  const phone = await world.browser.newContext();
  const page = await phone.newPage();
  await page.goto(`${world.server.url}/widget?conversation=${conversation.id}#resume=${customerId}.${token}`);
  await page.getByText('Sent from my laptop').waitFor();
  assert.equal(new URL(page.url()).hash, '');
  await send(page, 'And now from my phone');
  // Stored, not just shown as sending: `li.message` is a message the server acknowledged.
  await page.locator('li.message', { hasText: 'And now from my phone' }).waitFor();
  const { events } = await api(world.server, `/api/conversations/${conversation.id}/events`, token);
  assert.ok(events.some((e) => e.message?.content === 'And now from my phone'));
  await phone.close();
});

test("a link opened where the visitor is signed in keeps the browser's own session", async () => {
  const visitor = await openVisitor(world.browser, world.server);
  await send(visitor.widget, 'Hello from home');
  await visitor.widget.getByText('Hello from home').waitFor();
  const stored = () => visitor.page.evaluate(() => JSON.parse(localStorage.getItem('chat.visitor.v1')));
  const before = await stored();
  // A token the server would refuse: the browser's own session must be the one used.
  const link = await visitor.context.newPage();
  await link.goto(`${world.server.url}/widget?conversation=${before.conversationId}#resume=${before.customerId}.deadbeefdeadbeefdeadbeef`);
  await link.getByText('Hello from home').waitFor();
  assert.equal(new URL(link.url()).hash, '');
  assert.equal((await stored()).token, before.token);
  await visitor.context.close();
});
