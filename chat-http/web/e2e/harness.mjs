// The e2e suite's world: a real chat-server (sled, its own data directory, a fixed port so
// it can be killed and restarted under the pages' feet) and Debian's Chromium driven by
// playwright-core. Pages are a visitor on the demo host page and an agent on /admin.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, 'artifacts');
const BINARY = process.env.CHAT_SERVER_BIN ?? resolve(here, '../../../target/debug/chat-server');
export const OWNER = { email: 'e2e-owner@example.com', password: 'e2e owner password' };

function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** A chat-server that can be stopped (SIGKILL: a crash) and started again on the same port and data. */
export class Server {
  /** `env` overrides the server's environment (e.g. a rate limit). */
  static async start(env = {}) {
    const server = new Server(await freePort(), mkdtempSync(join(tmpdir(), 'chat-e2e-')), env);
    await server.boot();
    return server;
  }

  constructor(port, dataDir, env) {
    this.port = port;
    this.dataDir = dataDir;
    this.env = env;
    this.url = `http://127.0.0.1:${port}`;
  }

  async boot() {
    const env = {
      ...process.env,
      CHAT_ADMIN_EMAIL: OWNER.email,
      CHAT_ADMIN_PASSWORD: OWNER.password,
      CHAT_RATE_MESSAGES: '0',
      CHAT_RATE_SESSIONS: '0',
      CHAT_RATE_CONVERSATIONS: '0',
      CHAT_RATE_UPLOADS: '0',
      RUST_LOG: 'info',
      ...this.env,
    };
    delete env.DATABASE_URL;
    this.child = spawn(BINARY, ['--bind', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr.pipe(process.stderr);
    await new Promise((ready, fail) => {
      let output = '';
      this.child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('listening on')) ready();
      });
      this.child.once('exit', (code) => fail(new Error(`chat-server exited (${code}) before listening:\n${output}`)));
    });
  }

  async kill() {
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A server (with `env`) and a browser for one test file: started before its tests, stopped after. */
export function useWorld(env = {}) {
  const world = {};
  before(async () => {
    world.server = await Server.start(env);
    world.browser = await launchBrowser();
  });
  after(async () => {
    await world.browser?.close();
    await world.server?.stop();
  });
  return world;
}

/** A visitor on the demo host page with the widget opened. */
export async function openVisitor(browser, server, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  const widget = page.frameLocator('iframe[title="Chat"]');
  await page.getByRole('button', { name: /open chat/i }).click();
  await widget.getByRole('textbox', { name: 'Message' }).waitFor();
  return { context, page, widget };
}

/** The owner, signed in on the dashboard. */
export async function openAgent(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/admin`);
  await page.waitForURL('**/admin/login');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  return { context, page };
}

/** Sends a message (or, with `label` "Private note", a note) from a composer. */
export async function send(scope, text, label = 'Message') {
  const box = scope.getByRole('textbox', { name: label });
  await box.fill(text);
  await box.press('Enter');
}

/** Calls the server's REST API (POST when there is a body) and returns the parsed answer. */
export async function api(server, path, token, body) {
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}
