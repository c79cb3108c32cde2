// The whole conversation, in a real browser: a visitor on the demo page writes, the agent
// sees it live with an unread count, replies, sees "Seen" (also after a reload), closes; the
// widget shows it closed. Typing and the launcher's unread badge on the way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARTIFACTS, openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('a visitor and an agent hold a conversation from first message to closed', async () => {
  const { server, browser } = world;
  const agent = await openAgent(browser, server);
  const visitor = await openVisitor(browser, server);
  const { widget } = visitor;

  await send(widget, 'Hello, my order #1234 is late');
  await widget.getByText('Hello, my order #1234 is late').waitFor();

  // The conversation appears in the agent's inbox without a reload, with one unread message.
  const row = agent.page.locator('a.conversation').first();
  await row.getByLabel('1 unread').waitFor();
  await row.click();
  await agent.page.waitForURL('**/admin/chat/*');
  const thread = agent.page.getByRole('log', { name: 'Messages' });
  await thread.getByText('Hello, my order #1234 is late').waitFor();
  // Opening it reads it: the visitor sees "Seen", the inbox's count goes.
  await widget.locator('.seen').waitFor();
  await row.getByLabel('1 unread').waitFor({ state: 'detached' });

  // Typing both ways.
  await agent.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Let me');
  await widget.getByText('Support is typing…').waitFor();
  await widget.getByRole('textbox', { name: 'Message' }).pressSequentially('Thanks');
  await agent.page.getByText('Visitor is typing…').waitFor();
  await widget.getByRole('textbox', { name: 'Message' }).fill('');

  await send(agent.page, 'Let me check that for you.');
  await widget.getByText('Let me check that for you.').waitFor();
  // The widget is open and on screen, so it reads the reply and the agent sees "Seen".
  await agent.page.locator('.seen').waitFor();
  // A reload shows "Seen" at once: the server says how far the visitor has read.
  await agent.page.reload();
  await thread.getByText('Let me check that for you.').waitFor();
  await agent.page.locator('.seen').waitFor();

  // Closed widget: the launcher counts what arrives.
  await widget.getByRole('button', { name: 'Close chat' }).click();
  await send(agent.page, 'It ships tomorrow.');
  await visitor.page.getByRole('button', { name: 'Open chat, 1 unread' }).waitFor();
  await visitor.page.getByRole('button', { name: /open chat/i }).click();
  await widget.getByText('It ships tomorrow.').waitFor();
  await visitor.page.getByRole('button', { name: 'Close chat' }).waitFor();

  await visitor.page.screenshot({ path: `${ARTIFACTS}/widget.png` });
  await agent.page.screenshot({ path: `${ARTIFACTS}/dashboard.png` });

  await agent.page.getByRole('button', { name: 'Close conversation' }).click();
  await widget.getByText('This conversation has been closed.').waitFor();
  await agent.page.getByRole('button', { name: 'Reopen' }).waitFor();
  await visitor.page.screenshot({ path: `${ARTIFACTS}/widget-closed.png` });

  // Nothing was duplicated on either side.
  for (const [scope, text] of [
    [widget, 'Hello, my order #1234 is late'],
    [thread, 'Let me check that for you.'],
    [thread, 'It ships tomorrow.'],
  ]) {
    assert.equal(await scope.getByText(text, { exact: true }).count(), 1, text);
  }
  await agent.context.close();
  await visitor.context.close();
});
