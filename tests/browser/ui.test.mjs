// The task UI for process people (issue 14, defects 4-10): no 401 in the console when
// signed out; a flow whose old definition still serves shows no "Load error" to end
// users and no file:line anywhere; the Flow filter lists only flows the user can touch,
// by title; a compact, searchable flows page; undeclared data and choices readable;
// absolute times, durations and a job's attempts; the archive sorted and filtered by
// the finished date, its filters kept in the URL; phones: a folding filter block and a
// one-line nav. Desktop and phone screenshots of each screen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import {
  SOURCE, tempDir, copyFlows, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  go, screenshot, apiCall, openList, teardown, WAIT,
} from './lib.mjs';

let dir; let flowsDir; let server; let browser;

const EXPENSE = `local flow = require "flow"
return flow.Flow {
  title = "Expense claim",
  start = flow.Start { title = "Claim" }:Permission("expense.start"):Next(flow.this.review),
  review = flow.View { title = "Review the claim" }:Priority("high"):Next(flow.this.finish),
  finish = flow.End(),
}
`;

before(async () => {
  dir = tempDir('ui');
  flowsDir = copyFlows({ 'jobs.lua': join(SOURCE, 'tests', 'fixtures', 'flows', 'jobs.lua') });
  writeFileSync(join(flowsDir, 'expense.lua'), EXPENSE);
  const db = join(dir, 'flowhost.db');
  addUsers(db, {
    root: { admin: true },
    ann: { grants: ['helloworld.start', 'helloworld.approve', 'expense.start'] },
  });
  server = await startServer({ db, flows: flowsDir });
  browser = await launchBrowser();
});

after(() => teardown({ browser, server, dirs: [dir, join(flowsDir, '..')] }));

/** Polls `check` (async, true when done) every 100 ms for up to WAIT. */
async function until(check) {
  const end = Date.now() + WAIT;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => { setTimeout(r, 100); });
  }
  throw new Error('timed out waiting');
}

/** Starts hello world and approves it through the API as `page`'s user; resolves to the process id. */
async function helloDone(page, text) {
  const s = await apiCall(page, 'POST', '/api/flows/helloworld/start/start', { data: { text } });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  const approve = s.body.tasks.find((t) => t.node === 'approve');
  assert.equal((await apiCall(page, 'POST', `/api/tasks/${approve.id}/assign`)).status, 200);
  assert.equal((await apiCall(page, 'POST', `/api/tasks/${approve.id}/execute`, { data: { approved: true } })).status, 200);
  return s.body.process.id;
}

test('signed out: no 401 in the console; GET /api/session says no user', async () => {
  const page = await newPage(browser, server.url);
  const console401 = [];
  page.on('console', (m) => { if (/401|Unauthorized/i.test(m.text())) console401.push(m.text()); });
  const session = page.waitForResponse((r) => r.url().endsWith('/api/session'));
  await page.goto('/');
  const res = await session;
  assert.equal(res.status(), 200);
  assert.equal((await res.json()).user, null);
  await page.getByTestId('login-form').waitFor();
  await page.reload();
  await page.getByTestId('login-form').waitFor();
  assert.deepEqual(console401, [], 'no 401 logged');
  checkPage(page);
  await page.close();
});

test('end users: an old definition that still serves is not an error; filters, flows page, data, times, archive', async () => {
  const root = await newPage(browser, server.url);
  await login(root, 'root');
  const ann = await newPage(browser, server.url);
  await login(ann, 'ann');

  // ---- defect 4: break expense.lua; its manager (root) sees file:line, ann sees a working flow
  writeFileSync(join(flowsDir, 'expense.lua'), EXPENSE.replace('flow.End(),', 'flow.End(),\n  oops = flow.Nowhere(),'));
  await until(async () => {
    const f = (await apiCall(root, 'GET', '/api/flows')).body.items.find((x) => x.name === 'expense');
    return f && f.status === 'error' && /expense\.lua$/.test(f.error.file);
  });
  await go(root, '#/flows', 'Flows');
  await expectText(root.locator('[data-testid=flow-card][data-flow=expense]').getByTestId('flow-error-location'), /expense\.lua:\d+$/);
  await go(ann, '#/start', 'Start a process');
  const card = ann.locator('[data-testid=start-flow][data-flow=expense]');
  await card.waitFor();
  assert.ok(!/Load error/.test(await card.textContent()), 'no "Load error" on the start page');
  const startTitles = await ann.locator('[data-testid=start-flow] .card-title').allTextContents();
  assert.deepEqual(startTitles, [...startTitles].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })), 'by title');
  await go(ann, '#/flows', 'Flows');
  const row = ann.locator('[data-testid=flow-card][data-flow=expense]');
  assert.equal(await row.getAttribute('data-status'), 'ok');
  assert.equal(await row.getByTestId('flow-error').count(), 0);
  assert.ok(!/\.lua|Load error|Nowhere/.test(await ann.getByTestId('flow-list').textContent()), 'no file:line for end users');
  writeFileSync(join(flowsDir, 'expense.lua'), EXPENSE);

  // ---- defect 5: a compact flows page, by title, with a search kept in the URL
  const titles = await ann.locator('[data-testid=flow-card] .flow-row-title').evaluateAll((els) => els.map((e) => e.firstChild.textContent));
  assert.deepEqual(titles, [...titles].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })), 'sorted by title');
  const rowHeight = await ann.locator('[data-testid=flow-card][data-flow=helloworld]').evaluate((e) => e.getBoundingClientRect().height);
  assert.ok(rowHeight < 110, `a compact row (${rowHeight}px)`);
  await screenshot(ann, 'ui-flows');
  await ann.getByTestId('flows-search').fill('hello');
  await ann.waitForFunction(() => location.hash === '#/flows?q=hello');
  const visible = await ann.locator('[data-testid=flow-card]:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-flow')));
  assert.deepEqual(visible, ['helloworld']);
  await ann.reload();
  await ann.getByTestId('flow-list').waitFor();
  assert.equal(await ann.getByTestId('flows-search').inputValue(), 'hello');
  assert.equal(await ann.locator('[data-testid=flow-card]:visible').count(), 1);

  // the Flow filter: only the flows ann can touch, by title
  await go(ann, '#/inbox', 'Inbox');
  const options = await ann.getByTestId('filter-flow').locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const names = options.map(([v]) => v).filter(Boolean);
  assert.ok(names.includes('helloworld') && names.includes('expense'), names.join(','));
  assert.ok(!names.includes('shipment') && !names.includes('jobs'), `no flows ann cannot touch: ${names.join(',')}`);
  const optionTitles = options.slice(1).map(([, t]) => t);
  assert.deepEqual(optionTitles, [...optionTitles].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
  const rootFilter = await (async () => {
    await go(root, '#/inbox', 'Inbox');
    return root.getByTestId('filter-flow').locator('option').count();
  })();
  assert.ok(rootFilter > options.length, 'an admin sees every flow');

  // task management: a Priority column where tasks have one (:Priority of the node)
  const claim = await apiCall(ann, 'POST', '/api/flows/expense/start/start', { data: {} });
  assert.equal(claim.status, 201, JSON.stringify(claim.body));
  await openList(ann, 'queue');
  const claimRow = ann.getByTestId('queue-table').locator(`[data-testid=task-row]`).filter({ hasText: 'Review the claim' });
  await expectText(claimRow.getByTestId('priority'), 'High');
  await screenshot(ann, 'ui-queue-priority');

  // ---- defects 6 and 7: undeclared data readable, times absolute on hover, durations
  const pid1 = await helloDone(ann, 'first');
  const pid2 = await helloDone(ann, 'second');
  await go(ann, `#/processes/${pid2}`);
  const proc = ann.getByTestId('process-page');
  await proc.waitFor();
  const sentRow = ann.locator('[data-testid=process-data-list] .datalist-row[data-field=sent_at]');
  await expectText(sentRow.locator('dt'), 'Sent at');
  const sent = (await sentRow.locator('dd').textContent()).trim();
  assert.ok(!/^\d+$/.test(sent) && /\d{4}/.test(sent), `a date, not seconds: "${sent}"`);
  await expectText(ann.getByTestId('process-ran'), /^ran \d+ s$/);
  assert.ok(await ann.getByTestId('task-took').count() >= 2, 'each finished task: how long it took');
  const title = await proc.locator('time').first().getAttribute('title');
  assert.match(title, /\d{4}/, 'absolute time on hover');
  await screenshot(ann, 'ui-process');

  // ---- defect 8: the archive sorts by finished (both ways) and filters on it, in the URL
  await openList(ann, 'archive');
  const ids = async () => ann.getByTestId('archive-table').getByTestId('task-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-task-id')));
  await ann.getByTestId('sort-finished').click();
  await ann.waitForFunction(() => location.hash.includes('sort=-finished_at'));
  await ann.locator('th[aria-sort=descending] [data-testid=sort-finished]').waitFor();
  const desc = await ids();
  await ann.getByTestId('sort-finished').click();
  await ann.waitForFunction(() => /sort=finished_at/.test(location.hash));
  await ann.locator('th[aria-sort=ascending] [data-testid=sort-finished]').waitFor();
  const asc = await ids();
  assert.deepEqual(asc, [...desc].reverse(), 'finished: newest first, then oldest first');
  assert.ok(desc.length >= 4);
  const today = new Date().toISOString().slice(0, 10);
  await ann.getByTestId('filter-finished-since').fill(today);
  await ann.getByTestId('filter-flow').selectOption('helloworld');
  await ann.getByTestId('filter-apply').click();
  await ann.waitForFunction(() => location.hash.includes('finished_since='));
  await ann.locator('[data-testid=archive-list]').waitFor();
  await expectText(ann.getByTestId('filters-summary'), /Filters \(2 set\)/);
  const filtered = await ids();
  assert.ok(filtered.length >= 2);
  await screenshot(ann, 'ui-archive');
  // the same URL gives the same list after a reload (or shared)
  const url = ann.url();
  await ann.reload();
  await ann.getByTestId('archive-table').waitFor();
  assert.deepEqual(await ids(), filtered);
  assert.equal(ann.url(), url);
  await ann.getByTestId('filter-finished-until').fill('2001-01-01');
  await ann.getByTestId('filter-apply').click();
  await expectText(ann.getByTestId('archive-list'), /No tasks match these filters/);

  // ---- defect 7: a job's attempts (jobs.lua: fail once, then succeed)
  const job = await apiCall(root, 'POST', '/api/flows/jobs/start/start', { data: { fail_times: 1 } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  await until(async () => (await apiCall(root, 'GET', `/api/processes/${job.body.process.id}`)).body.process.status === 'DONE');
  await go(root, `#/processes/${job.body.process.id}`);
  await root.getByTestId('process-page').waitFor();
  await expectText(root.getByTestId('task-attempts').first(), '1');   // failed once, then done

  // ---- defect 6: a choice by its label (the shipment's carrier), in data and summary
  const ship = await apiCall(root, 'POST', '/api/flows/shipment/start/start', {
    data: { customer_name: 'Ada', customer_email: 'a@example.com', address: '1 Road', ship_date: '2030-01-15', weight: 1, goods_value: 5 },
  });
  const carrierTask = ship.body.tasks.find((t) => t.node === 'set_shipment_type');
  await apiCall(root, 'POST', `/api/tasks/${carrierTask.id}/assign`);
  const done = await apiCall(root, 'POST', `/api/tasks/${carrierTask.id}/execute`, { data: { carrier: 'default', need_insurance: false } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  await go(root, `#/processes/${ship.body.process.id}`);
  await expectText(root.getByTestId('data-carrier'), 'Normal post');
  await expectText(root.getByTestId('page-title'), /Normal post/);
  checkPage(ann);
  checkPage(root);
  await ann.close();
  await root.close();
  assert.ok(pid1);
});

test('phone: the filter block folds, the nav keeps one line', async () => {
  const page = await newPage(browser, server.url, { viewport: { width: 375, height: 740 }, context: { isMobile: true, hasTouch: true } });
  await login(page, 'ann');
  await openList(page, 'inbox');
  const fold = page.getByTestId('filters-fold');
  assert.equal(await fold.evaluate((d) => d.open), false, 'folded on a phone');
  const listTop = await page.getByTestId('inbox-list').evaluate((e) => e.getBoundingClientRect().top);
  const summaryBox = await page.getByTestId('filters-summary').boundingBox();
  assert.ok(summaryBox.height < 60, 'the folded filters take one line');
  assert.ok(listTop < 320, `the list starts high (${listTop}px)`);
  const tops = await page.locator('#mainnav li:not([hidden]) a').evaluateAll((as) => as.map((a) => Math.round(a.getBoundingClientRect().top)));
  assert.equal(new Set(tops).size, 1, `the nav is one line: ${tops}`);
  await screenshot(page, 'ui-phone-inbox');
  await page.getByTestId('filters-summary').tap();
  assert.equal(await fold.evaluate((d) => d.open), true);
  await page.getByTestId('filter-flow').waitFor({ state: 'visible' });
  await screenshot(page, 'ui-phone-filters');
  await openList(page, 'archive');
  await screenshot(page, 'ui-phone-archive');
  await go(page, '#/flows', 'Flows');
  await screenshot(page, 'ui-phone-flows');
  checkPage(page);
  await page.close();
});
