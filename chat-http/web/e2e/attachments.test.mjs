// Files in a real browser: a visitor sends an image (with upload progress) that the agent
// sees as a preview; a refused file gets a clear error and nothing is sent; the agent sends
// a document the visitor can download; an agent's private note never reaches the visitor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAgent, openVisitor, send, useWorld } from './harness.mjs';

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

const world = useWorld();

test('attachments go both ways; refused files say why; notes stay private', async () => {
  const { server, browser } = world;
  const visitor = await openVisitor(browser, server);
  const { widget } = visitor;
  await send(widget, 'I will send a photo of the box');
  await widget.getByText('I will send a photo of the box').waitFor();

  // A refused file: HTML is never accepted, whatever its name says.
  await widget.getByTestId('file-input').setInputFiles({
    name: 'box.png',
    mimeType: 'image/png',
    buffer: Buffer.from('<html><script>alert(1)</script></html>'),
  });
  const refusal = widget.getByRole('alert').filter({ hasText: 'box.png was not attached' });
  await refusal.waitFor();

  await widget.getByTestId('file-input').setInputFiles({ name: 'damaged-box.png', mimeType: 'image/png', buffer: PNG });
  await widget.getByRole('list', { name: 'Attached files' }).getByText('damaged-box.png').waitFor();
  await send(widget, 'Here it is');
  await widget.getByRole('img', { name: 'damaged-box.png' }).waitFor();

  const agent = await openAgent(browser, server);
  await agent.page.locator('a.conversation').first().click();
  const thread = agent.page.getByRole('log', { name: 'Messages' });
  const preview = thread.getByRole('img', { name: 'damaged-box.png' });
  await preview.waitFor();
  assert.equal(await preview.evaluate((img) => img.naturalWidth), 1);

  await agent.page.getByTestId('file-input').setInputFiles({ name: 'return-label.pdf', mimeType: 'application/pdf', buffer: PDF });
  await agent.page.getByRole('list', { name: 'Attached files' }).getByText('return-label.pdf').waitFor();
  await send(agent.page, 'Print this return label');
  const documentLink = widget.getByRole('button', { name: /return-label\.pdf/ });
  await documentLink.waitFor();
  const [download] = await Promise.all([visitor.page.waitForEvent('download'), documentLink.click()]);
  assert.equal(download.suggestedFilename(), 'return-label.pdf');

  // A private note: shown to agents as a note, never to the visitor.
  await agent.page.getByLabel('Private note (only agents see it)').check();
  await send(agent.page, 'Customer seems upset, offer a voucher', 'Private note');
  await thread.getByText('Customer seems upset, offer a voucher').waitFor();
  await thread.getByText('Private note · agents only').waitFor();
  await agent.page.getByLabel('Private note (only agents see it)').uncheck();
  await send(agent.page, 'Anything else?');
  await widget.getByText('Anything else?').waitFor();
  assert.equal(await widget.getByText('Customer seems upset').count(), 0);
  await visitor.page.reload();
  await visitor.page.getByRole('button', { name: /open chat/i }).click();
  await widget.getByText('Anything else?').waitFor();
  assert.equal(await widget.getByText('Customer seems upset').count(), 0);

  await agent.context.close();
  await visitor.context.close();
});
