// Shared pieces of the browser tests: a flowhost server of our own (temp DB, free
// loopback port), Debian's Chromium driven by playwright-core, sign-in, screenshots.
//
// Environment (tests/tests.cmake FLOWHOST_TEST_ENV): FLOWHOST_BIN is the binary,
// FLOWHOST_SOURCE the repository root. CHROMIUM overrides /usr/bin/chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.FLOWHOST_SOURCE || resolve(here, '..', '..');
export const BIN = process.env.FLOWHOST_BIN || join(SOURCE, 'build', 'flowhost');
export const FLOWS = join(SOURCE, 'flows');
export const WEB = join(SOURCE, 'web');
export const ARTIFACTS = join(SOURCE, 'tests', 'artifacts');

/** How long one wait on the page may take before the test fails (ms). */
export const WAIT = 30_000;   // generous: CI machines are shared and slow at times

// ctest kills a test file after 180 s, too hard for clean-up to run: give up before
// that, so that the exit handlers below stop our servers (Playwright closes Chromium).
const WATCHDOG_S = Number(process.env.FLOWHOST_BROWSER_WATCHDOG || 150);
setTimeout(() => {
  console.error(`browser test: still running after ${WATCHDOG_S} s, giving up`);
  process.exit(1);
}, WATCHDOG_S * 1000).unref();

const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `flowhost-browser-${prefix}-`));
}

/** Runs the CLI against a database: cli(db, 'user', 'add', 'alice', '--password', 'pw'). */
export function cli(db, ...args) {
  return execFileSync(BIN, [...args, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** addUsers(db, {alice: {password, grants: [...], groups: [...], admin}}) creates them with the CLI. */
export function addUsers(db, spec) {
  for (const [name, u] of Object.entries(spec)) {
    cli(db, 'user', 'add', name, '--password', u.password || 'pw', ...(u.admin ? ['--admin'] : []));
    for (const g of u.groups || []) cli(db, 'user', 'join', name, g);
    for (const p of u.grants || []) cli(db, 'user', 'grant', name, p);
  }
}

/** Grants a permission to every member of a group. */
export function grantGroup(db, group, perm) {
  cli(db, 'user', 'grant', `@${group}`, perm);
}

/**
 * Starts `flowhost serve` on a free loopback port. Resolves to
 * {url, stop(), log()} once it printed "listening on http://...".
 */
export async function startServer({ db, flows = FLOWS, web = WEB } = {}) {
  const args = ['serve', '--listen', '127.0.0.1:0', '--db', db, '--flows', flows, '--web', web];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.setEncoding('utf8');
  children.add(child);
  const exited = new Promise((res) => child.once('exit', (code, signal) => { children.delete(child); res({ code, signal }); }));

  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`flowhost did not start within 20 s\n${out}\n${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); res(m[1]); }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`flowhost exited before listening (code ${code}, signal ${signal})\n${out}\n${err}`));
    });
  });

  let stopped = null;
  return {
    url,
    log: () => err,
    /** SIGTERM, then wait for the exit; a server that does not stop in 15 s is killed and reported. */
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill('SIGTERM');
        let timer;
        const late = new Promise((res) => { timer = setTimeout(() => res('late'), 15_000); });
        const r = await Promise.race([exited, late]);
        clearTimeout(timer);
        if (r === 'late') {
          child.kill('SIGKILL');
          await exited;
          throw new Error(`flowhost did not exit within 15 s of SIGTERM\n${err}`);
        }
        return r;
      })();
      return stopped;
    },
  };
}

/** A fresh temp folder with a copy of flows/ (and optionally extra files: {name: path}). */
export function copyFlows(extra = {}) {
  const dir = join(tempDir('flows'), 'flows');
  cpSync(FLOWS, dir, { recursive: true });
  for (const [name, from] of Object.entries(extra)) cpSync(from, join(dir, name));
  return dir;
}

export function removeDir(dir) {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A page in a context of its own (own cookies: one per user). Uncaught errors in
 * the page are collected; checkPage(page) fails the test when there were any.
 */
export async function newPage(browser, baseURL, opts = {}) {
  const context = await browser.newContext({ baseURL, viewport: opts.viewport || { width: 1280, height: 900 }, ...opts.context });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.pageErrors = [];
  page.on('pageerror', (e) => page.pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.pageErrors.push(`console: ${m.text()}`);
  });
  return page;
}

export function checkPage(page) {
  assert.deepEqual(page.pageErrors, [], 'the page raised errors');
}

/** Sign in through the login form; waits for the inbox. */
export async function login(page, username, password = 'pw') {
  await page.goto('/#/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('inbox-list').waitFor();
  await expectText(page.getByTestId('user-name'), username);
}

/** Waits until the locator's text equals (string) or matches (RegExp) the expectation. */
export async function expectText(locator, expected, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await locator.textContent({ timeout: Math.max(1, deadline - Date.now()) }); } catch (e) { last = `<${e.message.split('\n')[0]}>`; }
    const text = last == null ? '' : last.trim();
    if (expected instanceof RegExp ? expected.test(text) : text === expected) return text;
    if (Date.now() > deadline) {
      // what the page showed instead, so that a failure on a loaded CI machine can be read
      let shown = '';
      try { shown = (await locator.page().locator('main').innerText({ timeout: 1000 })).slice(0, 600); } catch (e) { shown = `<${e.message.split('\n')[0]}>`; }
      assert.fail(`expected text ${expected} of ${locator}, got ${JSON.stringify(last)}; the page showed: ${JSON.stringify(shown)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Navigates within the app by hash and waits for the page title. */
export async function go(page, hash, title) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  // the content of the page before stays until the new one mounts: wait for the new one
  await page.waitForFunction(() => document.getElementById('main')?.dataset.route === location.hash,
    null, { timeout: WAIT });
  if (title) await expectText(page.getByTestId('page-title').first(), title);
}

/** PNG of the page (whole length unless fullPage is false) in tests/artifacts/<name>.png. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

/** The chart's node statuses once it is drawn: {node: status|null}. */
export async function chartStatuses(page) {
  const chart = page.getByTestId('process-chart');
  await chart.locator('svg g.node').first().waitFor();
  return chart.locator('svg g.node').evaluateAll((gs) => Object.fromEntries(
    gs.map((g) => [g.getAttribute('data-node'), g.getAttribute('data-status')])));
}

/**
 * Calls the JSON API from inside the page, with the page's session cookie and CSRF
 * token (as the UI does). Resolves to {status, body}. Used to check what the UI
 * did (or did not do), never to drive the scenario itself.
 */
export async function apiCall(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin' };
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = sessionStorage.getItem('flowhost.csrf') || '';
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body || {});
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, body: json };
  }, { method, path, body });
}

/** Computed stroke colour of the first shape of each chart node: {node: 'rgb(...)'}. */
export async function chartStrokes(page) {
  const chart = page.getByTestId('process-chart');
  await chart.locator('svg g.node').first().waitFor();
  return chart.locator('svg g.node').evaluateAll((gs) => Object.fromEntries(gs.map((g) => {
    const shape = g.querySelector('polygon, ellipse, path, rect, circle');
    return [g.getAttribute('data-node'), shape ? getComputedStyle(shape).stroke : null];
  })));
}

/** Fills and submits the hello world start form; resolves to the new process id. */
export async function startHelloworld(page, text) {
  await go(page, '#/start/helloworld/start');
  const form = page.getByTestId('start-form');
  await form.waitFor();
  await form.getByTestId('field-text').fill(text);
  await form.getByTestId('start-submit').click();
  const proc = page.getByTestId('process-page');
  await proc.waitFor();
  return proc.getAttribute('data-process-id');
}

/** The task rows of a list page (inbox, queue, archive), by id, title, process. */
export function taskRow(page, view, { id, title, processId } = {}) {
  let rows = page.getByTestId(`${view}-table`).getByTestId('task-row');
  if (id) rows = rows.and(page.locator(`[data-task-id="${id}"]`));
  if (title) rows = rows.filter({ has: page.getByTestId('task-link').filter({ hasText: title }) });
  if (processId) rows = rows.filter({ has: page.locator(`a[href="#/processes/${processId}"]`) });
  return rows;
}

/**
 * Opens a task list (inbox, queue, archive) from the top bar and waits until it is
 * freshly drawn (a list on screen before the click is marked stale and waited out).
 */
export async function openList(page, view) {
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('main [data-testid]')) el.setAttribute('data-stale', '');
  });
  await page.getByTestId(`nav-${view}`).click();
  await page.locator(`[data-testid=${view}-list]:not([data-stale])`).waitFor();
  return page.getByTestId(`${view}-list`);
}

/**
 * The end of a test file: close the browser, stop the server (it must exit cleanly:
 * code 0 after SIGTERM), remove the temp folders — all of it, even when one step fails.
 */
export async function teardown({ browser, server, dirs = [] }) {
  const errors = [];
  if (browser) await browser.close().catch((e) => errors.push(e));
  if (server) {
    try {
      const { code, signal } = await server.stop();
      if (code !== 0) errors.push(new Error(`flowhost exited with code ${code} (signal ${signal}) after SIGTERM\n${server.log()}`));
    } catch (e) { errors.push(e); }
  }
  for (const d of dirs) removeDir(d);
  if (errors.length) throw errors[0];
}

/**
 * After Complete the UI leaves the task (issue 14): to the user's next task of the
 * process, else the inbox. Waits until it left task `id` and the API says DONE;
 * resolves to the hash it went to.
 */
export async function completed(page, id) {
  await page.waitForFunction((tid) => location.hash !== `#/tasks/${tid}`
    && document.querySelector('main [data-testid=task-page], main [data-testid=inbox-list]') !== null
    && (document.querySelector('main [data-testid=task-page]')?.getAttribute('data-task-id') ?? '') !== String(tid),
  String(id), { timeout: WAIT });
  const res = await apiCall(page, 'GET', `/api/tasks/${id}`);
  assert.equal(res.body.task.status, 'DONE', `task #${id} is done`);
  return page.evaluate(() => location.hash);
}
