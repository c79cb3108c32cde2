// What survives: a reload keeps the conversation (session in localStorage); messages written
// while the conversation is being started are all sent; a server crash
// and restart shows "Reconnecting…", keeps what the visitor wrote meanwhile, and resumes
// with `since`, with no message lost or shown twice; a 360 px phone gets a full-screen chat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARTIFACTS, openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('a reload keeps the history', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server);
  await send(visitor.widget, 'Before the reload');
  await visitor.widget.locator('li.message').getByText('Before the reload').waitFor();
  await visitor.page.reload();
  await visitor.page.getByRole('button', { name: /open chat/i }).click();
  await visitor.widget.getByText('Before the reload').waitFor();
  assert.equal(await visitor.widget.getByText('Before the reload').count(), 1);
  await visitor.context.close();
});

test('messages written while the conversation is being started are all sent, in order', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server);
  const { widget } = visitor;
  // A slow start: the conversation exists only a second after the first send.
  await visitor.context.route('**/api/conversations', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await route.continue();
  });
  const texts = ['One, starting', 'Two, while it starts', 'Three, still starting'];
  for (const text of texts) await send(widget, text);
  for (const text of texts) await widget.locator('li.message').getByText(text, { exact: true }).waitFor();
  const shown = await widget.locator('li.message').allTextContents();
  const order = texts.map((text) => shown.findIndex((line) => line.includes(text)));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), `in order: ${shown}`);
  await visitor.context.close();
});

test('a dropped connection resumes without losing or repeating a message', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server);
  const { widget } = visitor;
  await send(widget, 'First, before the crash');
  await widget.locator('li.message').getByText('First, before the crash').waitFor();
  const agent = await openAgent(browser, server);
  await agent.page.locator('a.conversation').first().click();
  const thread = agent.page.getByRole('log', { name: 'Messages' });
  await thread.getByText('First, before the crash').waitFor();

  await server.kill();
  await widget.getByText(/Reconnecting/).waitFor();
  await agent.page.getByText(/Reconnecting/).waitFor();
  // Written while the server is down: kept and shown as sending.
  await send(widget, 'Written while offline');
  await widget.locator('li.pending').getByText('Written while offline').waitFor();

  await server.boot();
  await widget.getByText(/Reconnecting/).waitFor({ state: 'detached', timeout: 20_000 });
  await widget.locator('li.message').getByText('Written while offline').waitFor();
  await thread.getByText('Written while offline').waitFor({ timeout: 20_000 });
  await send(agent.page, 'Back online, I see your message');
  await widget.getByText('Back online, I see your message').waitFor();

  for (const text of ['First, before the crash', 'Written while offline', 'Back online, I see your message']) {
    assert.equal(await widget.getByText(text, { exact: true }).count(), 1, `widget: ${text}`);
    assert.equal(await thread.getByText(text, { exact: true }).count(), 1, `dashboard: ${text}`);
  }
  await agent.context.close();
  await visitor.context.close();
});

test('on a 360 px phone the chat fills the screen and works', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server, {
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
  });
  const box = await visitor.page.locator('iframe[title="Chat"]').boundingBox();
  assert.equal(Math.round(box.width), 360);
  await send(visitor.widget, 'Hello from my phone');
  await visitor.widget.locator('li.message').getByText('Hello from my phone').waitFor();
  await visitor.page.screenshot({ path: `${ARTIFACTS}/widget-phone.png` });
  await visitor.widget.getByRole('button', { name: 'Close chat' }).click();
  await visitor.page.getByRole('button', { name: /open chat/i }).waitFor();
  await visitor.context.close();
});
