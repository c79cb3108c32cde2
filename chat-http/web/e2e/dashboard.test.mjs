// The dashboard's own features in a real browser: history paged upward, status filters,
// assignment and logout. The conversation is seeded through the REST API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api as call, openAgent, useWorld } from './harness.mjs';

const world = useWorld();
const api = (path, token, body) => call(world.server, path, token, body);

test('paging, filters, assignment and logout', async () => {
  const { server, browser } = world;
  const { token } = await api('/api/sessions/visitor', null, {});
  const { conversation } = await api('/api/conversations', token, {});
  for (let n = 1; n <= 45; n += 1) {
    await api('/api/messages/send', token, {
      conversationId: conversation.id,
      senderType: 'customer',
      message: `Message number ${n}`,
    });
  }

  const agent = await openAgent(browser, server);
  const { page } = agent;
  await page.getByRole('button', { name: 'Closed' }).click();
  await page.getByText('No conversations here yet.').waitFor();
  await page.getByRole('button', { name: 'Waiting' }).click();
  const row = page.locator(`a.conversation[data-conversation-id="${conversation.id}"]`);
  await row.getByLabel('45 unread').waitFor();
  await row.click();

  const thread = page.getByRole('log', { name: 'Messages' });
  await thread.getByText('Message number 45', { exact: true }).waitFor();
  assert.equal(await thread.getByText('Message number 1', { exact: true }).count(), 0);
  await thread.getByRole('button', { name: 'Load older messages' }).click();
  await thread.getByText('Message number 1', { exact: true }).waitFor();
  assert.equal(await thread.locator('li.message').count(), 45);
  await thread.getByRole('button', { name: 'Load older messages' }).waitFor({ state: 'detached' });

  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.getByRole('button', { name: 'Unassign' }).waitFor();
  await row.getByText('Assigned to you').waitFor();

  await page.getByRole('button', { name: 'Close conversation' }).click();
  await page.getByRole('button', { name: 'Closed' }).click();
  await row.waitFor();
  await page.getByRole('button', { name: 'Waiting' }).click();
  await row.waitFor({ state: 'detached' });

  const agentToken = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.admin.v1')).token);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await page.goto(`${server.url}/admin`);
  await page.waitForURL('**/admin/login');
  // The token is revoked on the server too.
  const stale = await fetch(`${server.url}/api/conversations/list`, {
    headers: { authorization: `Bearer ${agentToken}` },
  });
  assert.equal(stale.status, 401);
  await agent.context.close();
});
