// Scenario 4: the shipment flow through its parallel branches, by a clerk and a
// warehouse worker, each with permissions through a group, entirely in the browser.
//
// Normal post with valuable goods: the clerk branch splits again (insurance and post
// label) while the warehouse packs; the move-out task waits for both and goes to the
// person who packed. Express: the quote is assigned to the clerk who chose the carrier,
// and the flow's own validate() refuses a quote above 10000 beside the field.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, grantGroup, startServer, launchBrowser, newPage, login, checkPage,
  expectText, screenshot, chartStatuses, taskRow, openList, go, teardown, completed,
} from './lib.mjs';

let dir; let server; let browser; let clerk; let wally;

before(async () => {
  dir = tempDir('shipment');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { clara: { groups: ['clerks'] }, wally: { groups: ['warehouse'] } });
  grantGroup(db, 'clerks', 'shipment.start');
  grantGroup(db, 'clerks', 'shipment.clerk');
  grantGroup(db, 'warehouse', 'shipment.package');
  grantGroup(db, 'warehouse', 'shipment.warehouse');
  server = await startServer({ db });
  browser = await launchBrowser();
  [clerk, wally] = await Promise.all([newPage(browser, server.url), newPage(browser, server.url)]);
  await login(clerk, 'clara');
  await login(wally, 'wally');
});

after(() => teardown({ browser, server, dirs: [dir] }));

/** Start a shipment through the start form; returns the process id. */
async function startShipment(page, { name, goodsValue }) {
  await page.getByTestId('nav-start').click();
  await page.getByTestId('start-shipment-start').click();
  const form = page.getByTestId('start-form');
  await form.waitFor();
  await form.getByTestId('field-customer_name').fill(name);
  await form.getByTestId('field-customer_email').fill('orders@example.com');
  await form.getByTestId('field-address').fill('1 Harbour Road\nPortsmouth');
  await form.getByTestId('field-ship_date').fill('2030-01-15');
  await form.getByTestId('field-weight').fill('12.5');
  await form.getByTestId('field-goods_value').fill(String(goodsValue));
  await form.getByTestId('start-submit').click();
  const proc = page.getByTestId('process-page');
  await proc.waitFor();
  return proc.getAttribute('data-process-id');
}

/** The titles of the tasks of the process in a freshly loaded task list. */
async function listTitles(page, view, processId) {
  await openList(page, view);
  return taskRow(page, view, { processId }).evaluateAll((rs) => rs
    .map((r) => r.querySelector('[data-testid=task-link]').firstChild.textContent.trim()));
}

/** Assign a task of the process from the queue; returns its id. */
async function assignFromQueue(page, processId, title) {
  await openList(page, 'queue');
  const row = taskRow(page, 'queue', { title, processId });
  await row.waitFor();
  const id = await row.getAttribute('data-task-id');
  await row.getByTestId('queue-assign').click();
  await expectText(page.getByTestId('flash-message').last(), new RegExp(`“${title}” is now assigned to you`));
  await page.locator(`[data-testid=queue-table] [data-task-id="${id}"]`).waitFor({ state: 'detached' });
  return id;
}

/** Open a task from the inbox, fill its form with fill(form), complete it. */
async function completeFromInbox(page, id, fill) {
  await openList(page, 'inbox');
  const row = taskRow(page, 'inbox', { id });
  await row.waitFor();
  await row.getByTestId('task-link').click();
  const form = page.getByTestId('task-form');
  await page.locator(`[data-testid=task-page][data-task-id="${id}"][data-status=ASSIGNED]`).waitFor();
  await fill(form);
  await form.getByTestId('action-execute').click();
  await completed(page, id);
}

async function openProcess(page, processId) {
  await go(page, `#/processes/${processId}`);
  const proc = page.locator(`[data-testid=process-page][data-process-id="${processId}"]`);
  await proc.waitFor();
  return proc;
}

test('normal post with insurance: both branches, nested split, move-out to the packer, DONE', async () => {
  const pid = await startShipment(clerk, { name: 'Grace Hopper', goodsValue: 2500 });
  let chart = await chartStatuses(clerk);
  assert.equal(chart.start, 'DONE');
  assert.equal(chart.split_clerk_warehouse, 'DONE');
  assert.equal(chart.set_shipment_type, 'NEW');
  assert.equal(chart.package_goods, 'NEW');
  assert.equal(chart.move_package, null);
  await screenshot(clerk, 'shipment-started');

  // each sees only the branch they may take
  assert.deepEqual(await listTitles(clerk, 'queue', pid), ['Choose the carrier']);
  assert.deepEqual(await listTitles(wally, 'queue', pid), ['Package the goods']);

  // the warehouse packs first
  const packId = await assignFromQueue(wally, pid, 'Package the goods');
  await completeFromInbox(wally, packId, async (form) => {
    await form.getByTestId('field-package_count').fill('3');
  });
  // nothing else for wally yet: Complete went back to the inbox; the done task keeps its data
  assert.equal(wally.url().replace(/^[^#]*/, ''), '#/inbox');
  await go(wally, `#/tasks/${packId}`);
  await expectText(wally.getByTestId('process-data').getByTestId('data-package_count'), '3');
  assert.deepEqual(await listTitles(wally, 'inbox', pid), [], 'the move-out waits for the clerk branch');

  // the clerk chooses normal post; the goods are valuable, so insurance comes too
  const carrierId = await assignFromQueue(clerk, pid, 'Choose the carrier');
  await completeFromInbox(clerk, carrierId, async (form) => {
    await form.getByTestId('field-carrier').selectOption('default');
    assert.equal(await form.getByTestId('field-need_insurance').isChecked(), false);
  });
  assert.deepEqual((await listTitles(clerk, 'queue', pid)).sort(), ['Fill in the post label', 'Take the extra insurance']);
  await screenshot(clerk, 'shipment-queue');
  const insuranceId = await assignFromQueue(clerk, pid, 'Take the extra insurance');
  const labelId = await assignFromQueue(clerk, pid, 'Fill in the post label');
  assert.deepEqual((await listTitles(clerk, 'inbox', pid)).sort(), ['Fill in the post label', 'Take the extra insurance']);

  await openProcess(clerk, pid);
  chart = await chartStatuses(clerk);
  assert.equal(chart.package_goods, 'DONE');
  assert.equal(chart.set_shipment_type, 'DONE');
  assert.equal(chart.delivery_mode, 'DONE');
  assert.equal(chart.check_insurance, 'DONE');
  assert.equal(chart.request_insurance, 'ASSIGNED');
  assert.equal(chart.fill_post_label, 'ASSIGNED');
  assert.equal(chart.request_quotes, null, 'the quote branch is not taken');
  assert.equal(chart.join_clerk_warehouse, 'STARTED', 'the join waits for the clerk branch');
  assert.equal(chart.move_package, null);
  await screenshot(clerk, 'shipment-branches');

  await completeFromInbox(clerk, insuranceId, async (form) => {
    await form.getByTestId('field-insurance_number').fill('POL-2030-77');
  });
  assert.deepEqual(await listTitles(wally, 'inbox', pid), [], 'one clerk task still open: still waiting');
  await completeFromInbox(clerk, labelId, async (form) => {
    await form.getByTestId('field-post_label').fill('Grace Hopper\n1 Harbour Road\nPortsmouth');
  });
  assert.deepEqual(await listTitles(clerk, 'inbox', pid), []);

  // both branches joined: the move-out is assigned to the packer, no queue step
  assert.deepEqual(await listTitles(wally, 'inbox', pid), ['Move the package out']);
  const moveId = await taskRow(wally, 'inbox', { title: 'Move the package out', processId: pid }).getAttribute('data-task-id');
  await completeFromInbox(wally, moveId, async (form) => {
    await form.getByTestId('field-tracking_number').fill('TRK123456');
  });
  await go(wally, `#/tasks/${moveId}`);
  await expectText(wally.getByTestId('process-status'), 'Done');

  const proc = await openProcess(wally, pid);
  assert.equal(await proc.getAttribute('data-status'), 'DONE');
  chart = await chartStatuses(wally);
  const expected = {
    start: 'DONE', split_clerk_warehouse: 'DONE', set_shipment_type: 'DONE', delivery_mode: 'DONE',
    check_insurance: 'DONE', request_insurance: 'DONE', fill_post_label: 'DONE', join_normal_post: 'DONE',
    request_quotes: null, confirm_carrier: null, package_goods: 'DONE', join_clerk_warehouse: 'DONE',
    move_package: 'DONE', finish: 'DONE',
  };
  assert.deepEqual(chart, expected);
  for (const [field, value] of Object.entries({
    customer_name: 'Grace Hopper', carrier: 'Normal post', insurance_number: 'POL-2030-77',
    package_count: '3', tracking_number: 'TRK123456',
  })) await expectText(proc.getByTestId(`data-${field}`), value);

  // the branches ran on their own tokens
  const tokens = await wally.getByTestId('history-row').evaluateAll((rs) => Object.fromEntries(
    rs.map((r) => [r.dataset.node, r.querySelector('code.token') ? r.querySelector('code.token').textContent : null])));
  assert.equal(tokens.start, 'start');
  assert.match(tokens.set_shipment_type, /^start\/\d+_\d+$/);
  assert.match(tokens.package_goods, /^start\/\d+_\d+$/);
  assert.notEqual(tokens.set_shipment_type, tokens.package_goods);
  assert.match(tokens.request_insurance, new RegExp(`^${tokens.set_shipment_type}/\\d+_\\d+$`));
  assert.equal(tokens.move_package, 'start');
  await screenshot(wally, 'shipment-done');
  checkPage(clerk);
  checkPage(wally);
});

test('express: the quote goes to the clerk; a quote above 10000 is refused beside the field', async () => {
  const pid = await startShipment(clerk, { name: 'Alan Turing', goodsValue: 10 });

  const carrierId = await assignFromQueue(clerk, pid, 'Choose the carrier');
  await completeFromInbox(clerk, carrierId, async (form) => {
    await form.getByTestId('field-carrier').selectOption('express');
  });
  // the success message links to the task that now waits for the same clerk
  const next = clerk.getByTestId('flash-message').last().getByTestId('next-task-link');
  await expectText(next, /^Request a quote \(#\d+\)$/);
  const quoteId = (await next.textContent()).match(/#(\d+)/)[1];
  await next.click();
  // wait for the new task's page by id: the carrier task's page (now DONE) may still be on screen
  const quote = clerk.locator(`[data-testid=task-page][data-task-id="${quoteId}"]`);
  await quote.waitFor();
  assert.equal(await quote.getAttribute('data-status'), 'ASSIGNED');
  await expectText(clerk.getByTestId('task-owner'), 'clara');

  const form = clerk.getByTestId('task-form');
  // the page may render once more as the task's events arrive (a loaded CI machine sent the
  // form without the typed value): type until the field holds it, then send
  const price = form.getByTestId('field-quote_price');
  for (let i = 0; i < 20; i++) {
    await price.fill('25000');
    await clerk.waitForTimeout(100);
    if ((await price.inputValue()) === '25000') break;
  }
  assert.equal(await price.inputValue(), '25000');
  await form.getByTestId('action-execute').click();
  const err = form.locator('.field[data-field="quote_price"]').getByTestId('error-quote_price');
  await expectText(err, 'A quote above 10000 needs a manager; ask again.');
  assert.equal(await form.getByTestId('field-quote_price').getAttribute('aria-invalid'), 'true');
  assert.equal(await quote.getAttribute('data-status'), 'ASSIGNED', 'the task is not done');
  await screenshot(clerk, 'shipment-quote-refused');

  await form.getByTestId('field-quote_price').fill('480');
  await form.getByTestId('action-execute').click();
  await completed(clerk, quoteId);

  const packId = await assignFromQueue(wally, pid, 'Package the goods');
  await completeFromInbox(wally, packId, async (f) => { await f.getByTestId('field-package_count').fill('1'); });
  assert.deepEqual(await listTitles(wally, 'inbox', pid), ['Move the package out']);
  const moveId = await taskRow(wally, 'inbox', { title: 'Move the package out', processId: pid }).getAttribute('data-task-id');
  await completeFromInbox(wally, moveId, async (f) => { await f.getByTestId('field-tracking_number').fill('EXP-1'); });

  const proc = await openProcess(clerk, pid);
  assert.equal(await proc.getAttribute('data-status'), 'DONE');
  const chart = await chartStatuses(clerk);
  assert.equal(chart.request_quotes, 'DONE');
  assert.equal(chart.confirm_carrier, 'DONE');
  assert.equal(chart.check_insurance, null, 'the normal-post branch is not taken');
  assert.equal(chart.fill_post_label, null);
  assert.equal(chart.finish, 'DONE');
  await expectText(proc.getByTestId('data-quote_price'), '480');
  await expectText(proc.getByTestId('data-carrier_confirmed'), 'express');
  checkPage(clerk);
  checkPage(wally);
});
