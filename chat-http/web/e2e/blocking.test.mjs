// Blocking in a real browser: an agent blocks the visitor from the conversation's header
// (after a confirmation); the visitor's widget says the chat is no longer available; the
// blocked list shows the visitor and unblocks it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('an agent blocks a visitor, the widget stops, and the visitor is unblocked from the list', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  await send(visitor.widget, 'Buy cheap watches');
  const agent = await openAgent(world.browser, world.server);
  const { page } = agent;
  await page.locator('a.conversation').first().click();
  await page.getByRole('log', { name: 'Messages' }).getByText('Buy cheap watches').waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Block visitor' }).click();
  await page.getByRole('button', { name: 'Unblock visitor' }).waitFor();
  await page.getByText('Blocked', { exact: true }).waitFor();

  await visitor.widget.getByText('This chat is not available to you any more.').waitFor();
  assert.equal(await visitor.widget.getByRole('textbox', { name: 'Message' }).count(), 0);

  await page.getByRole('link', { name: 'Blocked visitors' }).click();
  const list = page.getByRole('region', { name: 'Blocked visitors' });
  await list.getByRole('button', { name: 'Unblock' }).click();
  await list.getByText('Nobody is blocked.').waitFor();
  await agent.context.close();
  await visitor.context.close();
});
