// After a close in a real browser: the widget asks for a rating (keyboard works), the
// agent sees it on the conversation and in the report; the visitor lists its conversations,
// starts a new one, and can go back to the closed one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

const world = useWorld();

test('a closed conversation is rated, reported, and the visitor starts another', async () => {
  const visitor = await openVisitor(world.browser, world.server);
  const { widget } = visitor;
  await send(widget, 'Where is my parcel?');
  const agent = await openAgent(world.browser, world.server);
  const { page } = agent;
  await page.locator('a.conversation').first().click();
  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.getByRole('button', { name: 'Unassign' }).waitFor();
  await send(page, 'It arrives today.');
  await page.getByRole('button', { name: 'Close conversation' }).click();

  const form = widget.getByRole('form', { name: 'Rate this conversation' });
  await form.waitFor();
  await form.getByRole('radio', { name: '4: Good' }).focus();
  await visitor.page.keyboard.press('Space');
  await form.getByRole('textbox', { name: 'Comment (optional)' }).fill('Fast answer');
  await form.getByRole('button', { name: 'Send rating' }).click();
  await widget.getByText('Thanks for your feedback (4/5).').waitFor();

  await page.getByText('Rated 4/5: “Fast answer”').waitFor();
  await page.getByRole('link', { name: 'Reports' }).click();
  const report = page.getByRole('region', { name: 'Ratings report' });
  const you = report.getByRole('row', { name: /^You/ });
  await you.waitFor();
  assert.equal(await you.locator('td').last().textContent(), '4.00');

  await widget.getByRole('button', { name: 'Your conversations' }).click();
  const list = widget.getByRole('region', { name: 'Your conversations' });
  await list.getByRole('button', { name: /Closed/ }).waitFor();
  await list.getByRole('button', { name: 'Start a new conversation' }).click();
  await send(widget, 'One more question');
  await widget.getByText('One more question').waitFor();
  await widget.getByRole('button', { name: 'Your conversations' }).click();
  await list.getByRole('button', { name: /Waiting for a reply/ }).waitFor();
  await list.getByRole('button', { name: /Closed/ }).click();
  await widget.getByText('Where is my parcel?').waitFor();
  await widget.getByText('Thanks for your feedback (4/5).').waitFor();
  await agent.context.close();
  await visitor.context.close();
});
