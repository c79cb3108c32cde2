// A visitor's data on request in a real browser: the owner downloads the visitor's export
// (JSON lines holding its message) from the conversation's header, then erases the visitor
// after a confirmation; the dashboard goes back to the inbox without the conversation, the
// audit log says what happened, and the visitor's reloaded widget starts afresh.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('the owner exports then erases a visitor from the conversation header', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  const log = visitor.widget.getByRole('log', { name: 'Messages' });
  await send(visitor.widget, 'Please delete my data, I am Jane Doe');
  await log.locator('li.message', { hasText: 'Jane Doe' }).waitFor();

  const agent = await openAgent(world.browser, world.server);
  const { page } = agent;
  await page.locator('a.conversation').first().click();
  await page.getByRole('log', { name: 'Messages' }).getByText('Jane Doe').waitFor();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export data' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^visitor-[0-9a-f-]+\.jsonl$/);
  const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => line.type),
    ['visitor', 'conversation', 'message', 'end'],
  );
  assert.equal(lines[2].content, 'Please delete my data, I am Jane Doe');

  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Erase visitor' }).click();
  await page.waitForURL((url) => url.pathname === '/admin');
  await page.getByText('Choose a conversation on the left.').waitFor();
  const inbox = page.getByRole('navigation', { name: 'Conversations' });
  await page.waitForFunction(() => document.querySelectorAll('a.conversation').length === 0);
  assert.equal(await inbox.getByText('Jane Doe').count(), 0);

  await page.getByRole('link', { name: 'Audit log' }).click();
  const audit = page.getByRole('region', { name: 'Audit log' });
  await audit.getByText(/erased visitor [0-9a-f-]+ and 1 conversation\(s\)/).waitFor();
  await audit.getByText(/exported the data of visitor/).waitFor();
  assert.equal(await audit.getByText('Jane Doe').count(), 0);

  await visitor.page.reload();
  await visitor.page.getByRole('button', { name: /open chat/i }).click();
  await visitor.widget.getByRole('textbox', { name: 'Message' }).waitFor();
  assert.equal(await visitor.widget.getByText('Jane Doe').count(), 0, 'the widget shows the erased chat');
  await agent.context.close();
  await visitor.context.close();
});
