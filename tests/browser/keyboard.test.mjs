// Scenario 5: keyboard only. Sign in and reach the inbox with typing, Tab and Enter;
// go to the flows page, which shows a broken flow's error with its file and line;
// start a process and open its task from the chart, still without a mouse.
//
// This server loads a temp copy of flows/ plus tests/fixtures/broken/typo_reference.lua
// copied in as typo_flow.lua (`this.aprove` on line 7).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  SOURCE, tempDir, copyFlows, addUsers, startServer, launchBrowser, newPage, checkPage,
  expectText, screenshot, teardown,
} from './lib.mjs';

let dir; let flowsDir; let server; let browser; let page;

before(async () => {
  dir = tempDir('keyboard');
  flowsDir = copyFlows({ 'typo_flow.lua': join(SOURCE, 'tests', 'fixtures', 'broken', 'typo_reference.lua') });
  const db = join(dir, 'flowhost.db');
  addUsers(db, { kim: { grants: ['helloworld.start', 'helloworld.approve'] } });
  server = await startServer({ db, flows: flowsDir });
  browser = await launchBrowser();
  page = await newPage(browser, server.url);
});

after(() => teardown({ browser, server, dirs: [dir, flowsDir && join(flowsDir, '..')] }));

/** What has the focus: its data-testid, else tag#id. */
function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return el.getAttribute('data-testid') || `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`;
  });
}

/**
 * Presses Tab (or Shift+Tab) until the element with that data-testid has the focus;
 * every element passed on the way must be visible and show a focus indicator.
 */
async function tabTo(testid, { back = false, max = 40 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      return {
        id: el.getAttribute('data-testid') || `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`,
        visible: r.width > 0 && r.height > 0,
        ring: el.matches(':focus-visible') && (cs.outlineStyle !== 'none' || cs.boxShadow !== 'none'),
      };
    });
    if (!info) { seen.push('body'); continue; }
    seen.push(info.id);
    assert.ok(info.visible, `the focused element ${info.id} is visible`);
    assert.ok(info.ring, `the focused element ${info.id} shows a focus indicator`);
    if (info.id === testid) return seen;
  }
  assert.fail(`${testid} not reached with ${back ? 'Shift+' : ''}Tab; went through ${seen.join(', ')}`);
}

test('sign in and reach the inbox with the keyboard only', async () => {
  await page.goto('/');
  await page.getByTestId('login-form').waitFor();
  assert.match(page.url(), /#\/login$/, 'signed out: the login page');
  assert.equal(await focused(), 'login-username', 'the user name has the focus');
  await page.keyboard.type('kim');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'login-password');
  await page.keyboard.type('wrong');
  await page.keyboard.press('Enter');
  await expectText(page.getByTestId('login-error'), 'Wrong user name or password.');
  assert.equal(await focused(), 'login-password', 'after a failure the focus is back on the password');
  await page.keyboard.type('pw');
  await page.keyboard.press('Enter');

  await page.getByTestId('inbox-list').waitFor();
  await expectText(page.getByTestId('page-title'), 'Inbox');
  assert.equal(await focused(), 'page-title', 'the page heading has the focus after the page changed');
  await expectText(page.getByTestId('user-name'), 'kim');
  await screenshot(page, 'keyboard-inbox');
  checkPage(page);
});

test('the flows page shows the broken flow, without file and line to a non-manager', async () => {
  const path = await tabTo('nav-flows', { back: true });
  assert.ok(!path.includes('nav-admin'), 'kim manages nothing: no Admin link on the way');
  await page.keyboard.press('Enter');
  await expectText(page.getByTestId('page-title'), 'Flows');
  const broken = page.locator('[data-testid=flow-card][data-flow=typo_flow]');
  await broken.waitFor();
  assert.equal(await broken.getAttribute('data-status'), 'error');
  // kim manages nothing: the load error (file:line, Lua text) is for managers (issue 14, defect 4)
  await expectText(broken.getByTestId('flow-status'), 'Unavailable');
  assert.equal(await broken.getByTestId('flow-error-location').count(), 0);
  await expectText(broken.getByTestId('flow-error-message'), /not available.*administrator/);
  assert.ok(!/\.lua|aprove/.test(await page.getByTestId('flow-list').textContent()), 'no file name or Lua message on the page');
  // one order: by title; failures counted in the heading
  const titles = await page.locator('[data-testid=flow-card] .flow-row-title').evaluateAll((els) => els.map((e) => e.firstChild.textContent));
  assert.deepEqual(titles, [...titles].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
  await expectText(page.locator('.page-sub'), /1 failed to load/);
  const ok = page.locator('[data-testid=flow-card][data-flow=helloworld]');
  assert.equal(await ok.getAttribute('data-status'), 'ok');
  assert.equal(await ok.getByTestId('flow-error').count(), 0);
  await screenshot(page, 'flows-broken', { fullPage: false });
  checkPage(page);
});

test('start a process and open its task from the chart, keyboard only', async () => {
  await tabTo('nav-start', { back: true });
  await page.keyboard.press('Enter');
  await page.getByTestId('start-list').waitFor();
  assert.equal(await page.locator('[data-testid=start-flow][data-flow=typo_flow]').count(), 0,
    'a flow that never loaded cannot be started');
  await tabTo('start-helloworld-start');
  await page.keyboard.press('Enter');
  await page.getByTestId('start-form').waitFor();
  await tabTo('field-text');
  await page.keyboard.type('Typed, not clicked');
  await page.keyboard.press('Enter'); // submits the form
  const proc = page.getByTestId('process-page');
  await proc.waitFor();
  await expectText(proc.getByTestId('data-text'), 'Typed, not clicked');

  // the chart's nodes with a task are links in the tab order
  const chart = page.getByTestId('process-chart');
  await chart.locator('svg g.node[data-node=approve][data-status=NEW]').waitFor();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-node') === 'approve')) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-node')), 'approve');
  assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), /Approve: New, task #\d+/);
  // Enter lists the node's tasks below the chart and focuses the latest one; Enter opens it
  await page.keyboard.press('Enter');
  await chart.getByTestId('chart-node-task').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.closest('[data-testid=chart-node-task]') !== null), true);
  await page.keyboard.press('Enter');
  const task = page.getByTestId('task-page');
  await task.waitFor();
  assert.equal(await task.getAttribute('data-status'), 'NEW');

  // take it with the keyboard as well
  await tabTo('action-assign');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=task-page][data-status=ASSIGNED]').waitFor();
  await expectText(page.getByTestId('task-owner'), 'kim');
  checkPage(page);
});
