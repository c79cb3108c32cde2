// The agents' workflow tools in a real browser: labels (create one from a conversation,
// chips in the header and the inbox, the inbox's label filter) and canned replies (`/` in
// the composer opens a picker worked with the keyboard alone; placeholders come filled).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWNER, api as call, openAgent, useWorld } from './harness.mjs';

const world = useWorld();
const api = (path, token, body) => call(world.server, path, token, body);

/** Two conversations of one visitor (named Ada in the first's metadata), each with a message. */
async function seed() {
  const { token } = await api('/api/sessions/visitor', null, {});
  const { conversation: tagged } = await api('/api/conversations', token, { metadata: { name: 'Ada' } });
  const { conversation: other } = await api('/api/conversations', token, {});
  for (const conversation of [tagged, other]) {
    await api('/api/messages/send', token, { conversationId: conversation.id, senderType: 'customer', message: 'Help' });
  }
  return { tagged, other, visitor: token };
}

test('labels: create from a conversation, chips, and the inbox filter', async () => {
  const { tagged, other } = await seed();
  const { context, page } = await openAgent(world.browser, world.server);
  const row = (id) => page.locator(`a.conversation[data-conversation-id="${id}"]`);
  await row(tagged.id).click();
  await page.getByRole('button', { name: 'Labels' }).click();
  await page.getByRole('textbox', { name: 'New label' }).fill('VIP customer');
  await page.getByRole('button', { name: 'Add' }).click();
  const header = page.getByRole('region', { name: /Conversation with/ });
  await header.getByRole('list', { name: 'Labels' }).getByText('VIP customer').waitFor();
  await row(tagged.id).getByText('VIP customer').waitFor();
  assert.ok(await page.getByRole('checkbox', { name: 'VIP customer' }).isChecked());

  await page.getByRole('combobox', { name: 'Filter by label' }).selectOption('VIP customer');
  await row(other.id).waitFor({ state: 'detached' });
  await row(tagged.id).waitFor();

  await page.getByRole('checkbox', { name: 'VIP customer' }).uncheck();
  await header.getByRole('list', { name: 'Labels' }).waitFor({ state: 'detached' });
  await row(tagged.id).waitFor({ state: 'detached' });
  await context.close();
});

test('canned replies: "/" opens a picker the keyboard works, filled for the visitor', async () => {
  const { tagged } = await seed();
  const { token: owner, admin } = await api('/api/auth/login', null, OWNER);
  await api('/api/canned-replies', owner, {
    shortCode: 'refund',
    content: 'Hi {{visitor.name}}, {{agent.name}} here: refunds take 5 days.',
  });
  await api('/api/canned-replies', owner, { shortCode: 'bye', content: 'Goodbye!' });
  const filled = `Hi Ada, ${admin.name} here: refunds take 5 days.`;
  const { context, page } = await openAgent(world.browser, world.server);
  await page.goto(`${world.server.url}/admin/chat/${tagged.id}`);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially('/');
  const picker = page.getByRole('listbox', { name: 'Canned replies' });
  await picker.getByRole('option').first().waitFor();
  assert.equal(await picker.getByRole('option').count(), 2);
  await box.pressSequentially('re');
  // The picker shows only the matches of the text as typed, never an older query's.
  await picker.getByRole('option', { name: /refund/ }).waitFor();
  assert.equal(await picker.getByRole('option').count(), 1);
  await box.press('Escape');
  await picker.waitFor({ state: 'detached' });
  await box.fill('');
  await box.pressSequentially('/b');
  await picker.getByRole('option', { name: /bye/ }).waitFor();
  await box.press('Backspace');
  await picker.getByRole('option').nth(1).waitFor();
  await box.press('ArrowDown');
  assert.equal(await picker.getByRole('option', { selected: true }).textContent(), `/refund ${filled}`);
  await box.press('Enter');
  assert.equal(await box.inputValue(), filled, 'Enter inserts the filled reply and sends nothing');
  await picker.waitFor({ state: 'detached' });
  await box.press('Enter');
  await page.getByRole('log', { name: 'Messages' }).getByText(filled, { exact: true }).waitFor();
  await context.close();
});
