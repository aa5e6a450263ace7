// Search by process data, comments and the audit of submitted data (issue 15) in the UI:
// the search box of the process list (exact and range), a comment added on the process
// page, a View that needs a comment completed from the task page, and the "Changes to the
// data" list showing who changed what. Screenshots: data-search, data-process, data-task.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  SOURCE, tempDir, addUsers, cli, copyFlows, startServer, launchBrowser, newPage, login, checkPage,
  expectText, go, screenshot, apiCall, teardown, completed,
} from './lib.mjs';

let dir; let flows; let server; let browser; let page;
const pids = {};

before(async () => {
  dir = tempDir('data');
  flows = copyFlows({
    'casefile.lua': join(SOURCE, 'tests', 'fixtures', 'flows', 'casefile.lua'),
    'auto_lean.lua': join(SOURCE, 'bench', 'flows', 'auto_lean.lua'),   // history = "lean"
    'lib/all_automatic.lua': join(SOURCE, 'bench', 'flows', 'lib', 'all_automatic.lua'),
  });
  const db = join(dir, 'flowhost.db');
  addUsers(db, { boss: { admin: true } });
  for (const [key, data] of Object.entries({
    acme: { customer: 'ACME', amount: 120, due: '2026-01-10', kind: 'claim' },
    globex: { customer: 'Globex', amount: 480, due: '2026-02-01', kind: 'refund' },
  })) {
    const out = cli(db, 'start', 'casefile', 'open', '--data', JSON.stringify(data), '--as', 'boss', '--flows', flows);
    pids[key] = JSON.parse(out).process.id;
  }
  server = await startServer({ db, flows });
  browser = await launchBrowser();
  page = await newPage(browser, server.url);
  await login(page, 'boss');
});

after(() => teardown({ browser, server, dirs: [dir, join(flows, '..')] }));

async function listedIds() {
  await page.getByTestId('processes-list').waitFor();
  return page.getByTestId('process-row').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-process-id'))));
}

test('the search box finds processes by a field, exactly and by range', async () => {
  await go(page, '#/processes', 'Processes');
  const box = page.getByTestId('search-box');
  await box.waitFor();
  await box.getByTestId('search-field').selectOption('customer');
  await box.getByTestId('search-value').fill('ACME');
  await box.getByTestId('search-apply').click();
  await page.waitForURL(/data\.customer=ACME/);
  await expectText(page.getByTestId('search-chip'), /Customer = ACME/);
  assert.deepEqual(await listedIds(), [pids.acme]);

  await page.getByTestId('search-chip').getByRole('button').click();   // remove it
  await page.waitForURL((u) => !/data\./.test(u.hash));
  // the list renders again for the new address once its rows arrive: fill the box of that
  // render, not of the old one it replaces (a loaded machine showed the old one filled)
  await page.getByTestId('search-chip').waitFor({ state: 'detached' });
  assert.deepEqual((await listedIds()).sort((a, b) => a - b), [pids.acme, pids.globex].sort((a, b) => a - b));
  await page.getByTestId('search-box').getByTestId('search-field').selectOption('amount');
  await page.getByTestId('search-box').getByTestId('search-op').selectOption('_gte');
  await page.getByTestId('search-box').getByTestId('search-value').fill('200');
  await page.getByTestId('search-box').getByTestId('search-apply').click();
  await page.waitForURL(/data\.amount_gte=200/);
  await expectText(page.getByTestId('search-chip'), /Amount ≥ 200/);
  assert.deepEqual(await listedIds(), [pids.globex]);
  await screenshot(page, 'data-search');
  checkPage(page);
});

test('a comment on the process page, and the audit of the start', async () => {
  await go(page, `#/processes/${pids.acme}`);
  const panel = page.getByTestId('comments-panel');
  await panel.waitFor();
  await panel.getByTestId('comment-input').fill('Called ACME about the claim.');
  await panel.getByTestId('comment-add').click();
  await expectText(panel.getByTestId('comment-text'), 'Called ACME about the claim.');
  const audit = page.getByTestId('audit-panel');
  await audit.getByTestId('audit-entry').first().waitFor();
  await expectText(audit.getByTestId('audit-entry').first(), /boss.*Open a case/s);
  await expectText(audit.locator('[data-field="customer"]').first(), /Customer: —\s*→\s*ACME/);
  checkPage(page);
});

test('a View that needs a comment: completed from the task page, shown in comments and changes', async () => {
  const proc = await apiCall(page, 'GET', `/api/processes/${pids.acme}`);
  const review = proc.body.tasks.find((t) => t.node === 'review');
  assert.equal((await apiCall(page, 'POST', `/api/tasks/${review.id}/assign`, {})).status, 200);
  await go(page, `#/tasks/${review.id}`);
  const form = page.getByTestId('task-form');
  await form.waitFor();
  const comment = form.getByTestId('execute-comment');
  assert.equal(await comment.evaluate((el) => el.required), true, 'the comment is required');
  await form.getByTestId('field-amount').fill('150');
  await comment.fill('Amount checked against the invoice.');
  await form.getByTestId('action-execute').click();
  // after Complete the UI leaves the task (its next task or the inbox): come back to read it
  await completed(page, review.id);
  await go(page, `#/tasks/${review.id}`);
  const panel = page.getByTestId('comments-panel');
  await expectText(panel.getByTestId('comment-text').first(), 'Amount checked against the invoice.');
  await screenshot(page, 'data-task');

  await go(page, `#/processes/${pids.acme}`);
  const audit = page.getByTestId('audit-panel');
  await audit.getByTestId('audit-entry').nth(1).waitFor();
  await expectText(audit.getByTestId('audit-entry').nth(1), /boss.*Review.*Amount: 120\s*→\s*150/s);
  await expectText(page.getByTestId('comments-panel').getByRole('heading'), 'Comments (2)');
  await screenshot(page, 'data-process');
  checkPage(page);
});

test('a process of a flow with a lean history: its data and audit, no task, and a note saying why', async () => {
  const res = await apiCall(page, 'POST', '/api/flows/auto_lean/start/start', { data: { n: 3 } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.process.status, 'DONE');
  assert.deepEqual(res.body.tasks, []);   // the answer lists what is kept
  await go(page, `#/processes/${res.body.process.id}`);
  await page.getByTestId('process-page').waitFor();
  await expectText(page.getByTestId('lean-history-note'), /lean history: the automatic steps that ran straight through are not listed/);
  assert.equal(await page.getByTestId('history-row').count(), 0);
  await expectText(page.getByTestId('process-data-list'), /N\s*6/);   // n: 3, doubled
  // the chart says the automatic steps' nodes kept no task (they ran: not "no task yet")
  await expectText(page.getByTestId('legend-none'), /No task kept.*lean history/);
  const compute = page.getByTestId('process-chart').locator('g.node[data-node="compute"]');
  await compute.waitFor();
  assert.match(await compute.getAttribute('aria-label'), /: no task kept$/);
  const audit = page.getByTestId('audit-panel');
  await audit.getByTestId('audit-entry').first().waitFor();
  assert.equal(await audit.getByTestId('audit-entry').first().getAttribute('data-node'), '');
  checkPage(page);
  // the flows page says which flows keep a lean history, beside their steps; the others do not
  await go(page, '#/flows', 'Flows');
  const steps = async (flow) => {
    const card = page.locator(`[data-testid=flow-card][data-flow=${flow}]`);
    await card.getByTestId('flow-steps-details').locator('summary').click();
    await card.getByTestId('flow-steps').waitFor();
    return card;
  };
  await expectText((await steps('auto_lean')).getByTestId('flow-history-lean'), /^Lean history: the automatic steps/);
  assert.equal(await (await steps('casefile')).getByTestId('flow-history-lean').count(), 0);
  checkPage(page);
});
