// Message changes in a real browser: the agent deletes a card number, then redacts it (the
// audit loses its text), deletes another message and edits its own reply; the visitor's
// widget shows "This message was deleted" and the new text live; the audit log shows the
// deleted and replaced text but never the redacted one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('the agent redacts, deletes and edits; the widget and the audit log follow', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  const log = visitor.widget.getByRole('log', { name: 'Messages' });
  await send(visitor.widget, 'My card is 4111 1111 1111 1111');
  await log.getByText('My card is 4111').waitFor();
  await send(visitor.widget, 'hello there');
  await log.getByText('hello there').waitFor();

  const agent = await openAgent(world.browser, world.server);
  const { page } = agent;
  await page.locator('a.conversation').first().click();
  const messages = page.getByRole('log', { name: 'Messages' });
  const card = messages.locator('li.message', { hasText: 'My card is 4111' });
  await card.waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await card.getByRole('button', { name: 'Delete' }).click();
  await messages.getByText('This message was deleted').waitFor();
  await log.getByText('This message was deleted').waitFor();
  assert.equal(await log.getByText('4111').count(), 0, 'gone from the widget, live');

  // The delete kept the text in the audit log; a redaction of the deleted message erases it.
  await page.getByRole('link', { name: 'Audit log' }).click();
  const audit = page.getByRole('region', { name: 'Audit log' });
  await audit.getByText('deleted a message; it said: My card is 4111 1111 1111 1111').waitFor();
  await page.goBack();
  const deleted = messages.locator('li.message', { has: page.locator('.deleted') });
  page.once('dialog', (dialog) => dialog.accept('card number'));
  await deleted.getByRole('button', { name: 'Redact' }).click();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await audit.getByText('redacted a message: card number').waitFor();
  await audit.getByText('deleted a message; it said: (redacted)').waitFor();
  assert.equal(await audit.getByText('4111').count(), 0, 'the redacted text is gone from the audit');
  await page.goBack();

  const hello = messages.locator('li.message', { hasText: 'hello there' });
  page.once('dialog', (dialog) => dialog.accept());
  await hello.getByRole('button', { name: 'Delete' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[role="log"] li.message .deleted').length === 2);
  await log.locator('li.message .deleted').nth(1).waitFor();
  assert.equal(await log.getByText('hello there').count(), 0);

  await send(page, 'Sorry for the wait', 'Message');
  const reply = messages.locator('li.message', { hasText: 'Sorry for the wait' });
  await reply.waitFor();
  page.once('dialog', (dialog) => dialog.accept('Sorry for the long wait'));
  await reply.getByRole('button', { name: 'Edit' }).click();
  await log.getByText('Sorry for the long wait').waitFor();
  await log.locator('li.message', { hasText: 'Sorry for the long wait' }).locator('.edited').waitFor();

  await page.getByRole('link', { name: 'Audit log' }).click();
  await audit.getByText('deleted a message; it said: hello there').waitFor();
  await audit.getByText('edited a message; it said: Sorry for the wait').waitFor();
  await agent.context.close();
  await visitor.context.close();
});
