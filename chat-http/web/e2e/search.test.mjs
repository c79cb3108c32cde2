// Search in a real browser: the agent types words into the header's search box, sees the
// matching messages (a private note among them) and the conversation named by its id, and
// a result opens the conversation paged back to that message, marked and in view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWNER, api as call, openAgent, useWorld } from './harness.mjs';

const world = useWorld();
const api = (path, token, body) => call(world.server, path, token, body);

test('a search result opens its conversation at the message', async () => {
  const { server, browser } = world;
  const { token } = await api('/api/sessions/visitor', null, {});
  const { conversation } = await api('/api/conversations', token, {});
  const say = (message) =>
    api('/api/messages/send', token, { conversationId: conversation.id, senderType: 'customer', message });
  const { messageId: wanted } = await say('My parcel never arrived, order 5521');
  // More than a page of history after it: the view must page back to reach it.
  for (let n = 1; n <= 40; n += 1) await say(`Chatter number ${n}`);
  const owner = await api('/api/auth/login', null, OWNER);
  await api('/api/messages/send', owner.token, {
    conversationId: conversation.id,
    senderType: 'admin',
    message: 'Parcel claim filed with the courier',
    private: true,
  });

  const agent = await openAgent(browser, server);
  const { page } = agent;
  const box = page.getByRole('searchbox', { name: 'Search conversations and messages' });
  await box.fill('PARCEL');
  await box.press('Enter');
  await page.waitForURL('**/admin/search?q=PARCEL');
  const found = page.getByRole('list', { name: 'Messages found' });
  const hits = found.getByRole('listitem');
  await hits.first().waitFor();
  assert.deepEqual(await hits.locator('p.line-clamp-2').allTextContents(), [
    'Parcel claim filed with the courier',
    'My parcel never arrived, order 5521',
  ]);
  await hits.first().getByText('Private note').waitFor();

  await box.fill('parcel arrived');
  await box.press('Enter');
  await page.waitForURL('**/admin/search?q=parcel+arrived');
  await page.waitForFunction(() => {
    const items = document.querySelectorAll('[aria-label="Messages found"] li');
    return items.length === 1 && items[0].textContent.includes('My parcel never arrived');
  });
  await found.getByRole('link').click();
  await page.waitForURL(`**/admin/chat/${conversation.id}?message=${wanted}&seq=*`);
  const marked = page.locator('li.message[aria-current="true"]');
  await marked.waitFor();
  assert.match(await marked.textContent(), /My parcel never arrived/);
  await page.waitForFunction(() => {
    const node = document.querySelector('li.message[aria-current="true"]');
    const log = node?.closest('[role="log"]');
    if (!node || !log) return false;
    const a = node.getBoundingClientRect();
    const b = log.getBoundingClientRect();
    return a.top >= b.top && a.bottom <= b.bottom;
  });

  await box.fill(conversation.id);
  await box.press('Enter');
  const conversations = page.getByRole('list', { name: 'Conversations found' });
  await conversations.getByRole('link').click();
  await page.waitForURL(`**/admin/chat/${conversation.id}`);
  await agent.context.close();
});
