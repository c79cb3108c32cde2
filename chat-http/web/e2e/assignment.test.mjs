// Auto-assignment with a real server (CHAT_AUTO_ASSIGN=round-robin) and a real dashboard:
// a signed-in agent gets a new conversation without touching it; with its capacity reached,
// the next one waits, and it is assigned once the agent closes one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWNER, api as call, openAgent, useWorld } from './harness.mjs';

const world = useWorld({ CHAT_AUTO_ASSIGN: 'round-robin' });
const api = (path, token, body) => call(world.server, path, token, body);

async function newConversation() {
  const { token } = await api('/api/sessions/visitor', null, {});
  const { conversation } = await api('/api/conversations', token, {});
  await api('/api/messages/send', token, { conversationId: conversation.id, senderType: 'customer', message: 'Hi' });
  return conversation.id;
}

test('an online agent gets new conversations up to its capacity; a waiting one follows a close', async () => {
  const { token, admin } = await api('/api/auth/login', null, OWNER);
  const capped = await fetch(`${world.server.url}/api/admins/${admin.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ capacity: 1 }),
  });
  assert.equal(capped.status, 200);
  assert.equal((await capped.json()).admin.capacity, 1);

  const { context, page } = await openAgent(world.browser, world.server);
  const row = (id) => page.locator(`a.conversation[data-conversation-id="${id}"]`);
  const first = await newConversation();
  await row(first).getByText('Assigned to you').waitFor();

  const second = await newConversation();
  await row(second).waitFor();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await row(second).getByText('Assigned to you').count(), 0, 'over capacity: it waits');

  await row(first).click();
  await page.getByRole('button', { name: 'Close conversation' }).click();
  await row(second).getByText('Assigned to you').waitFor();
  await context.close();
});
