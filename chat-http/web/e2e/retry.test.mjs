// "Not now" is not "no": a send the server refuses for the moment (here a rate limit; a
// store out of reach answers the same way) stays "Sending…" and goes again with the same
// client id until it is stored, then shows once on both sides, in the order written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

// Six messages at once per session, then one every ten seconds. Nine sends: even if typing
// them takes a loaded machine twenty seconds (two refills), the last is refused for now.
const world = useWorld({ CHAT_RATE_MESSAGES: '6' });
const SENDS = 9;

test('a rate-limited send is retried until it is stored, once', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server);
  const { widget } = visitor;
  const texts = Array.from({ length: SENDS }, (_, i) => `Message ${i + 1} of ${SENDS}`);
  for (const text of texts) await send(widget, text);

  const lastText = texts[SENDS - 1];
  const last = widget.locator('li.pending').filter({ hasText: lastText });
  await last.getByText('Sending…').waitFor();
  assert.equal(await widget.getByText(/Not sent/).count(), 0, 'a refusal for now was shown as final');
  // Up to three refills of ten seconds each before the last one is stored.
  await widget.locator('li.message').filter({ hasText: lastText }).waitFor({ timeout: 45_000 });
  assert.equal(await widget.locator('li.pending').count(), 0);

  const agent = await openAgent(browser, server);
  await agent.page.locator('a.conversation').first().click();
  const thread = agent.page.getByRole('log', { name: 'Messages' });
  await thread.getByText(lastText).waitFor();
  for (const text of texts) {
    assert.equal(await thread.getByText(text, { exact: true }).count(), 1, `${text} shown once`);
    assert.equal(await widget.getByText(text, { exact: true }).count(), 1, `${text} shown once`);
  }
  // The outbox sends in order, so refusals for now never reorder what the visitor wrote.
  const written = /^Message \d of \d$/;
  assert.deepEqual(await thread.getByText(written).allInnerTexts(), texts, 'stored in the order written');
  assert.deepEqual(await widget.getByText(written).allInnerTexts(), texts, 'shown in the order written');
  await agent.context.close();
  await visitor.context.close();
});
