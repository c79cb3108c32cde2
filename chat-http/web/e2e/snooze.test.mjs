// Snoozing in a real browser: a preset shows the wake time in the header and the inbox, the
// snoozed filter finds the conversation, unsnooze brings it back, and a conversation
// snoozed until the visitor replies wakes when the visitor writes.
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('snooze presets, the wake time, unsnooze, and a visitor message that wakes it', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  await send(visitor.widget, 'I will check with my bank and come back');
  const agent = await openAgent(world.browser, world.server);
  const { page } = agent;
  await page.locator('a.conversation').first().click();
  await page.waitForURL('**/admin/chat/*');
  const id = page.url().split('/').pop();
  const row = page.locator(`a.conversation[data-conversation-id="${id}"]`);
  const header = page.getByRole('region', { name: /Conversation with/ });

  await page.getByRole('button', { name: 'Snooze', exact: true }).click();
  await page.getByRole('group', { name: 'Snooze until' }).getByRole('button', { name: 'In 1 hour' }).click();
  await header.getByText(/^Snoozed until /).waitFor();
  await row.getByText(/^wakes /).waitFor();
  await page.getByRole('button', { name: 'Waiting' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Snoozed' }).click();
  await row.waitFor();
  await page.getByRole('button', { name: 'All' }).click();

  await page.getByRole('button', { name: 'Unsnooze' }).click();
  await header.locator('.status', { hasText: 'active' }).waitFor();

  await page.getByRole('button', { name: 'Snooze', exact: true }).click();
  await page.getByRole('button', { name: 'Until the visitor replies' }).click();
  await header.getByText('Snoozed until the visitor replies').waitFor();
  await send(visitor.widget, 'The bank says it is fine');
  await header.locator('.status', { hasText: 'waiting' }).waitFor();
  await page.getByRole('log', { name: 'Messages' }).getByText('The bank says it is fine').waitFor();
  await agent.context.close();
  await visitor.context.close();
});
