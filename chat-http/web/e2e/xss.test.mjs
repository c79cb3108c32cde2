// Stored XSS probes: hostile message bodies, file names and an agent's name, stored through
// the real server and rendered by the dashboard and the widget. Each must appear as the
// literal text it is: no element the payload describes exists in the page, nothing it would
// run has run, and no dialog opened. (The CSP would also block inline handlers; the DOM
// checks make sure the text is never parsed as markup in the first place.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OWNER, openAgent, openVisitor, send, useWorld } from './harness.mjs';

// Each payload, if parsed as HTML, creates an element carrying the `xss-probe` marker and
// would set `window.__xss`.
const PAYLOADS = [
  '<img src=x class=xss-probe onerror="window.__xss=1">',
  '<script class=xss-probe>window.__xss=1</script>',
  '<svg class=xss-probe onload="window.__xss=1"></svg>',
  '"><iframe class=xss-probe srcdoc="<script>parent.__xss=1</script>"></iframe>',
  "<a class=xss-probe href=\"javascript:window.__xss=1\">click</a>",
  '{{constructor.constructor("window.__xss=1")()}} ${window.__xss=1}',
];
// Browsers percent-encode `"` in multipart file names, so this one has none.
const FILE_NAME = '<img src=x class=xss-probe onerror=window.__xss=1>.png';
const AGENT_NAME = '<img src=x class=xss-probe onerror="window.__xss=1">Mallory';
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const world = useWorld();

/** Asserts no payload turned into markup or ran in `frame` (a page or a frame). */
async function assertInert(frame, where) {
  const probes = await frame.locator('.xss-probe').count();
  assert.equal(probes, 0, `${where}: a payload became markup`);
  assert.equal(await frame.evaluate(() => window.__xss), undefined, `${where}: a payload ran`);
}

async function api(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${world.server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await response.json();
  assert.ok(response.ok, `${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

test('hostile bodies, file names and agent names are shown as text', async () => {
  const { server, browser } = world;
  const dialogs = [];

  // An agent whose name is markup, created by the owner.
  const { token: ownerToken } = await api('/api/auth/login', OWNER);
  const mallory = { email: 'mallory@example.com', password: 'mallory password 1' };
  await api('/api/admins', { ...mallory, name: AGENT_NAME }, ownerToken);

  const visitor = await openVisitor(browser, server);
  visitor.page.on('dialog', (dialog) => dialogs.push(dialog.message()));
  const { widget } = visitor;
  for (const payload of PAYLOADS) {
    await send(widget, payload);
    await widget.getByText(payload, { exact: true }).waitFor();
  }
  await widget.getByTestId('file-input').setInputFiles({ name: FILE_NAME, mimeType: 'image/png', buffer: PNG });
  await widget.getByRole('list', { name: 'Attached files' }).getByText(FILE_NAME).waitFor();
  await send(widget, 'the photo');
  await widget.getByRole('img', { name: FILE_NAME }).waitFor();

  // Mallory reads the conversation in the dashboard.
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialogs.push(dialog.message()));
  await page.goto(`${server.url}/admin/login`);
  await page.getByLabel('Email').fill(mallory.email);
  await page.getByLabel('Password').fill(mallory.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(AGENT_NAME, { exact: true }).waitFor();
  await page.locator('a.conversation').first().click();
  const thread = page.getByRole('log', { name: 'Messages' });
  for (const payload of PAYLOADS) {
    await thread.getByText(payload, { exact: true }).waitFor();
  }
  await thread.getByRole('img', { name: FILE_NAME }).waitFor();
  await send(page, 'Hello from Mallory');
  await widget.getByText('Hello from Mallory').waitFor();

  // The owner's dashboard too.
  const owner = await openAgent(browser, server);
  owner.page.on('dialog', (dialog) => dialogs.push(dialog.message()));
  await owner.page.locator('a.conversation').first().click();
  await owner.page.getByRole('log', { name: 'Messages' }).getByText(PAYLOADS[0], { exact: true }).waitFor();

  await assertInert(page, 'dashboard (Mallory)');
  await assertInert(owner.page, 'dashboard (owner)');
  await assertInert(visitor.page, 'host page');
  await assertInert(visitor.page.frame({ url: /\/widget/ }), 'widget');
  assert.deepEqual(dialogs, [], 'a dialog opened');

  await owner.context.close();
  await context.close();
  await visitor.context.close();
});
