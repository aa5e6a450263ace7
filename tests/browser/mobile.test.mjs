// Scenario 6: a phone-sized viewport (375x812). The inbox, with tasks whose summaries
// are long and unbroken, renders without horizontal scrolling, its rows become cards
// inside the screen and the assign/complete path works by touch. The other main pages
// are held to the same rule.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  screenshot, apiCall, openList, taskRow, go, teardown, completed,
} from './lib.mjs';

const WIDTH = 375;
let dir; let server; let browser; let page;

before(async () => {
  dir = tempDir('mobile');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { pat: { grants: ['helloworld.start', 'helloworld.approve'] } });
  server = await startServer({ db });
  browser = await launchBrowser();
  page = await newPage(browser, server.url, {
    viewport: { width: WIDTH, height: 812 },
    context: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  });
  await login(page, 'pat');
});

after(() => teardown({ browser, server, dirs: [dir] }));

/** The page does not scroll sideways, and nothing visible sticks out to the right. */
async function assertNoHorizontalScroll(what) {
  const m = await page.evaluate((vw) => {
    const doc = document.documentElement;
    const wide = [];
    const outside = (r) => r.width > 0 && r.height > 0 && (r.right > vw + 1 || r.left < -1);
    // inside an element that clips or scrolls on its own (the chart canvas, a visually
    // hidden table head) and that itself fits: not a page overflow
    const clipped = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== 'visible') {
          const pr = p.getBoundingClientRect();
          if (pr.right <= vw + 1 && pr.left >= -1) return true;
        }
      }
      return false;
    };
    const name = (el) => `${el.tagName.toLowerCase()}.${el.className}[${el.getAttribute('data-testid') || ''}]`;
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (outside(r) && !clipped(el)) wide.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    // text that overflows its element (a long word that does not wrap)
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (outside(r) && !clipped(n.parentElement) && !(getComputedStyle(n.parentElement).overflowX !== 'visible')) {
        wide.push(`text in ${name(n.parentElement)} ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
    // a box that scrolls sideways on its own (a table too wide for its wrapper); the
    // chart may, it keeps its natural size as an upper bound only
    for (const el of document.querySelectorAll('main *')) {
      const o = getComputedStyle(el).overflowX;
      if (o !== 'visible' && el.scrollWidth > el.clientWidth + 1 && !el.closest('.chart-canvas, .sr-only')
          && el.getBoundingClientRect().height > 1) {
        wide.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
      }
    }
    return {
      vw, innerWidth: window.innerWidth, scrollWidth: doc.scrollWidth, bodyScroll: document.body.scrollWidth, wide: wide.slice(0, 8),
    };
  }, WIDTH);
  // on a phone the browser widens the layout viewport (zooms out) when content is too wide
  assert.equal(m.innerWidth, WIDTH, `${what}: the layout is ${m.innerWidth}px wide in a ${WIDTH}px screen; sticking out: ${m.wide.join(', ')}`);
  assert.ok(m.scrollWidth <= m.vw, `${what}: the page is ${m.scrollWidth}px wide in a ${m.vw}px screen; sticking out: ${m.wide.join(', ')}`);
  assert.ok(m.bodyScroll <= m.vw, `${what}: body is ${m.bodyScroll}px wide`);
  assert.deepEqual(m.wide, [], `${what}: elements outside the screen`);
  // and scrolling sideways does nothing
  const x = await page.evaluate(() => { window.scrollTo(500, window.scrollY); return window.scrollX; });
  assert.equal(x, 0, `${what}: the page scrolls sideways`);
}

test('the inbox fits a phone screen', async () => {
  // three processes, one started through the form on the phone, two through the API
  const long = `Please-approve-${'x'.repeat(100)}`;
  await go(page, '#/start/helloworld/start');
  await page.getByTestId('start-form').waitFor();
  await assertNoHorizontalScroll('start form');
  await screenshot(page, 'mobile-start-form');
  await page.getByTestId('field-text').fill(long);
  await page.getByTestId('start-submit').tap();
  await page.getByTestId('process-page').waitFor();
  for (const text of ['A second message for the phone', 'Third: short']) {
    const res = await apiCall(page, 'POST', '/api/flows/helloworld/start/start', { data: { text } });
    assert.equal(res.status, 201);
  }

  // take them from the queue by touch
  const queue = await openList(page, 'queue');
  await expectText(page.getByTestId('count-queue'), '3');
  await assertNoHorizontalScroll('queue');
  await screenshot(page, 'mobile-queue');
  for (let i = 3; i > 0; i--) {
    const rows = taskRow(page, 'queue');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=queue-table] [data-testid=task-row]').length === n, i);
    const button = rows.first().getByTestId('queue-assign');
    const box = await button.boundingBox();
    assert.ok(box.width >= WIDTH / 2, 'the assign button spans the card on a phone');
    assert.ok(box.height >= 32, `the assign button is big enough to tap (${box.height}px)`);
    await button.tap();
    await expectText(page.getByTestId('count-inbox'), String(4 - i));
  }
  await queue.getByTestId('empty').waitFor();

  await openList(page, 'inbox');
  const rows = taskRow(page, 'inbox');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=inbox-table] [data-testid=task-row]').length === 3);
  await assertNoHorizontalScroll('inbox');
  for (const box of await rows.evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().toJSON()))) {
    assert.ok(box.left >= 0 && box.right <= WIDTH, `a row stays inside the screen (${box.left}..${box.right})`);
  }
  // rows are cards: the column labels come from data-label, the header row is hidden
  const head = await page.locator('[data-testid=inbox-table] thead').boundingBox();
  assert.ok(head.width <= 1 && head.height <= 1, 'the table head is visually hidden');
  assert.equal(await rows.first().evaluate((r) => getComputedStyle(r).display), 'block');
  // the navigation is all there, without sideways scrolling
  for (const nav of ['inbox', 'queue', 'archive', 'start', 'processes', 'flows']) {
    const b = await page.getByTestId(`nav-${nav}`).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= WIDTH, `the ${nav} link is on screen`);
  }
  await screenshot(page, 'mobile-inbox');
  checkPage(page);
});

test('the task and process pages fit a phone screen too', async () => {
  const row = taskRow(page, 'inbox').filter({ hasText: 'Please-approve' });
  await row.getByTestId('task-link').tap();
  const task = page.getByTestId('task-page');
  await task.waitFor();
  await assertNoHorizontalScroll('task page');
  await screenshot(page, 'mobile-task');
  await page.getByTestId('field-approved').tap();
  const doneId = await task.getAttribute('data-task-id');
  await page.getByTestId('action-execute').tap();
  // nothing else for this user in the process: Complete goes back to the inbox
  assert.equal(await completed(page, doneId), '#/inbox');
  await page.evaluate((id) => { location.hash = `#/tasks/${id}`; }, doneId);
  await page.locator('[data-testid=task-page][data-status=DONE]').waitFor();

  await page.getByTestId('process-link').tap();
  await page.getByTestId('process-page').waitFor();
  await page.getByTestId('process-chart').locator('svg g.node').first().waitFor();
  await assertNoHorizontalScroll('process page');
  const svg = await page.getByTestId('process-chart').locator('svg').boundingBox();
  assert.ok(svg.width <= WIDTH, 'the chart is scaled down to the screen');
  await screenshot(page, 'mobile-process');

  await openList(page, 'archive');
  await taskRow(page, 'archive').first().waitFor();
  await assertNoHorizontalScroll('archive');
  checkPage(page);
});
