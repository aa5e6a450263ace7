// Scenario 8: composition in the web UI, on flows/order.lua and flows/warehouse_shipment.lua.
//
// A clerk starts an order through the start form with three approvers and two
// warehouses. The approval is a :ForEach group: one task per approver, assigned to
// each; the inbox shows the item beside the title ("Approve the order · ann"), the
// task page "Instance 1 of 3: ann". Two approvals are a majority: the third instance
// is canceled, and the process page shows the group as one row ("2 of 3 done,
// 1 canceled") with its instances beneath, the chart a badge on the node. Then the
// order starts one warehouse_shipment subprocess per warehouse: the parent lists its
// children, a Subprocess task links to its child ("Child process #N — Started"), a
// child links back to its parent. A warehouse worker finishes both children in the
// browser; the parent follows (parcels counted back) and ends with the clerk.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  screenshot, chartStatuses, taskRow, openList, go, teardown, WAIT, completed,
} from './lib.mjs';

let dir; let server; let browser;
const pages = {};

before(async () => {
  dir = tempDir('compose');
  const db = join(dir, 'flowhost.db');
  // approvers need no permission: each approval task is assigned to its approver
  addUsers(db, {
    ann: {}, bob: {}, carol: {},
    clerk: { grants: ['order.start'] },
    wendy: { grants: ['order.warehouse'] },
    max: { grants: ['order.manage', 'warehouse_shipment.manage'] },
  });
  server = await startServer({ db });
  browser = await launchBrowser();
  for (const name of ['clerk', 'ann', 'bob', 'carol', 'wendy', 'max']) pages[name] = await newPage(browser, server.url);
  await Promise.all(Object.entries(pages).map(([name, p]) => login(p, name)));
});

after(() => teardown({ browser, server, dirs: [dir] }));

/** Opens a process page (reloading it when it is already shown) and waits for it. */
async function openProcess(page, pid) {
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('main [data-testid]')) el.setAttribute('data-stale', '');
  });
  if (await page.evaluate((h) => location.hash === h, `#/processes/${pid}`)) await page.reload();
  else await go(page, `#/processes/${pid}`);
  const proc = page.locator(`[data-testid=process-page][data-process-id="${pid}"]:not([data-stale])`);
  await proc.waitFor();
  return proc;
}

async function openTask(page, id) {
  await go(page, `#/tasks/${id}`);
  const el = page.locator(`[data-testid=task-page][data-task-id="${id}"]`);
  await el.waitFor();
  return el;
}

/** Re-opens the process page until check(page) stops throwing (the parent follows a child by a job). */
async function eventually(page, pid, check, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await openProcess(page, pid);
    try { return await check(); } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The history rows of the process page: [{id, type, status, node, group, item, text}]. */
function historyRows(page) {
  return page.getByTestId('history-row').evaluateAll((rs) => rs.map((r) => ({
    id: r.dataset.taskId,
    type: r.dataset.type,
    status: r.dataset.status,
    node: r.dataset.node,
    group: r.dataset.groupId || null,
    item: r.dataset.item ?? null,
    // "Approve the order — 2 of 3 done, 1 canceled" (group), "Approve the order · bob" (instance)
    text: [r.querySelector('[data-testid=history-task]'), r.querySelector('[data-testid=group-progress]')]
      .filter(Boolean).map((e) => e.textContent.trim()).join(' — '),
  })));
}

/** The group rows (controllers) and their instances as they stand on the page. */
async function group(page, node) {
  const rows = await historyRows(page);
  const i = rows.findIndex((r) => r.type === 'foreach' && r.node === node);
  assert.ok(i >= 0, `a group row for ${node}: ${JSON.stringify(rows)}`);
  const controller = rows[i];
  const instances = [];
  for (let j = i + 1; j < rows.length && rows[j].group === controller.id; j++) instances.push(rows[j]);
  assert.equal(rows.filter((r) => r.group === controller.id).length, instances.length, 'the instances follow their group row');
  return { controller, instances };
}

function childRows(page) {
  return page.getByTestId('child-row').evaluateAll((rs) => rs.map((r) => ({
    id: r.dataset.processId,
    status: r.dataset.status,
    flow: r.querySelector('[data-testid=child-flow]').textContent.trim(),
    task: r.querySelector('[data-testid=child-task-link]').textContent.trim(),
  })));
}

/** The chart node of a group: its status and badge. */
async function chartGroup(page, node) {
  const g = page.getByTestId('process-chart').locator(`svg g.node[data-node="${node}"]`);
  await g.waitFor();
  return g.evaluate((el) => ({
    status: el.getAttribute('data-status'),
    badge: el.querySelector('[data-testid=group-badge]') ? el.querySelector('[data-testid=group-badge]').textContent : null,
    tooltip: el.querySelector('title') ? el.querySelector('title').textContent : '',
    label: el.getAttribute('aria-label'),
  }));
}

/** An approver opens their approval from the inbox, sees which instance it is, approves. */
async function approve(page, who, pid, instance) {
  await openList(page, 'inbox');
  const row = taskRow(page, 'inbox', { title: 'Approve the order', processId: pid });
  await row.waitFor();
  assert.equal(await row.count(), 1);
  await expectText(row.getByTestId('task-link'), new RegExp(`^Approve the order · ${who}#\\d+$`));
  await expectText(row.getByTestId('task-item'), `· ${who}`);
  const id = await row.getAttribute('data-task-id');
  await row.getByTestId('task-link').click();
  const task = page.locator(`[data-testid=task-page][data-task-id="${id}"][data-status=ASSIGNED]`);
  await task.waitFor();
  await expectText(page.getByTestId('instance-info'), instance);
  await expectText(page.getByTestId('page-title'), new RegExp(`^Approve the order · ${who} #${id}$`));
  const form = page.getByTestId('task-form');
  await form.getByTestId('field-approved').check();
  await form.getByTestId('action-execute').click();
  await completed(page, id);
  await expectText(page.getByTestId('flash-message').last(), new RegExp(`^“Approve the order · ${who}” is done\\.`));
  return id;
}

/** The warehouse worker packs and hands over one child's shipment. */
async function ship(page, childPid, parcels, tracking) {
  await openList(page, 'queue');
  const row = taskRow(page, 'queue', { title: 'Pack the goods', processId: childPid });
  await row.waitFor();
  const packId = await row.getAttribute('data-task-id');
  await row.getByTestId('queue-assign').click();
  await expectText(page.getByTestId('flash-message').last(), /“Pack the goods” is now assigned to you/);
  await openTask(page, packId);
  const form = page.getByTestId('task-form');
  await form.getByTestId('field-parcels').fill(String(parcels));
  await form.getByTestId('action-execute').click();
  const went = await completed(page, packId);
  // the hand-over goes to whoever packed: straight to the inbox, and Complete opened it
  const next = page.getByTestId('flash-message').last().getByTestId('next-task-link');
  const sendId = (await expectText(next, /^Hand over to the carrier \(#\d+\)$/)).match(/#(\d+)/)[1];
  assert.equal(went, `#/tasks/${sendId}`, 'after Complete, the next task of the process');
  await next.click();
  await page.locator(`[data-testid=task-page][data-task-id="${sendId}"][data-status=ASSIGNED]`).waitFor();
  await page.getByTestId('task-form').getByTestId('field-tracking').fill(tracking);
  await page.getByTestId('task-form').getByTestId('action-execute').click();
  await completed(page, sendId);
}

async function noSideScroll(page, what) {
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `${what}: no horizontal scrolling at 375 px (${sw} > ${cw})`);
}

test('an order: 2 of 3 approvals as one group, one warehouse_shipment child per warehouse, parent and children linked', async () => {
  const { clerk, ann, bob, carol, wendy, max } = pages;

  // ---------------------------------------------------------------- the clerk starts an order
  await clerk.getByTestId('nav-start').click();
  await clerk.getByTestId('start-order-start').click();
  const form = clerk.getByTestId('start-form');
  await form.waitFor();
  await form.getByTestId('field-customer').fill('ACME Ltd');
  await form.getByTestId('field-items').fill('3 chairs\n1 table');
  await form.getByTestId('field-approvers').fill('ann, bob, carol');
  await form.getByTestId('field-warehouses').fill('north, south');
  await form.getByTestId('start-submit').click();
  const proc = clerk.getByTestId('process-page');
  await proc.waitFor();
  const pid = await proc.getAttribute('data-process-id');

  let g = await group(clerk, 'approve');
  assert.equal(g.controller.status, 'STARTED');
  assert.match(g.controller.text, /^Approve the order — 0 of 3 done, 3 open$/);
  assert.deepEqual(g.instances.map((r) => [r.item, r.status, r.type]),
    [['ann', 'ASSIGNED', 'view'], ['bob', 'ASSIGNED', 'view'], ['carol', 'ASSIGNED', 'view']]);
  assert.match(g.instances[1].text, /Approve the order · bob$/);
  let node = await chartGroup(clerk, 'approve');
  assert.equal(node.status, 'STARTED', 'the node takes the status of its group, not of an instance');
  assert.equal(node.badge, '0 of 3 done');
  assert.match(node.tooltip, /multiple instances, 0 of 3 done, 3 open/);
  await expectText(clerk.getByTestId('legend-group'), /Multiple instances/);
  assert.equal(await clerk.getByTestId('process-children').count(), 0, 'no children yet');

  // the group's own task is the engine's: no form, no buttons for the clerk
  await openTask(clerk, g.controller.id);
  await expectText(clerk.getByTestId('group-progress'), 'Approve the order — 0 of 3 done, 3 open');
  assert.deepEqual(await clerk.getByTestId('instance-entry').evaluateAll((ls) => ls.map((l) => l.dataset.item)), ['ann', 'bob', 'carol']);
  assert.equal(await clerk.getByTestId('task-form').count(), 0);
  assert.equal(await clerk.locator('[data-testid=task-page] button[data-action]').count(), 0);
  const approveGroupId = g.controller.id;

  // ---------------------------------------------------------------- two of three approve
  await openList(bob, 'inbox');
  await expectText(taskRow(bob, 'inbox', { processId: pid }).getByTestId('task-item'), '· bob');

  await approve(ann, 'ann', pid, 'Instance 1 of 3: ann');
  await approve(carol, 'carol', pid, 'Instance 3 of 3: carol');
  await screenshot(carol, 'compose-instance-done');

  // bob's approval was not needed: canceled, gone from his inbox
  await openList(bob, 'inbox');
  assert.equal(await taskRow(bob, 'inbox', { processId: pid }).count(), 0);

  // ---------------------------------------------------------------- the parent: group row, chart, children
  // (the host starts the children right after the write that approved: wait for both)
  await eventually(clerk, pid, async () => {
    assert.deepEqual((await childRows(clerk)).map((c) => c.status), ['STARTED', 'STARTED']);
  });
  g = await group(clerk, 'approve');
  assert.equal(g.controller.status, 'DONE');
  assert.match(g.controller.text, /^Approve the order — 2 of 3 done, 1 canceled$/);
  assert.deepEqual(g.instances.map((r) => [r.item, r.status]), [['ann', 'DONE'], ['bob', 'CANCELED'], ['carol', 'DONE']]);
  node = await chartGroup(clerk, 'approve');
  assert.equal(node.status, 'DONE');
  assert.equal(node.badge, '2 of 3 done');
  assert.match(node.label, /Approve the order: Done, task #\d+; multiple instances, 2 of 3 done, 1 canceled/);
  await expectText(clerk.getByTestId('data-approvals'), '2');

  const shipGroup = await group(clerk, 'ship');
  assert.equal(shipGroup.controller.status, 'STARTED');
  assert.match(shipGroup.controller.text, /0 of 2 done, 2 open$/);
  assert.deepEqual(shipGroup.instances.map((r) => [r.item, r.type, r.status]),
    [['north', 'subprocess', 'STARTED'], ['south', 'subprocess', 'STARTED']]);
  assert.equal((await chartGroup(clerk, 'ship')).badge, '0 of 2 done');
  assert.equal(await clerk.getByTestId('process-chart').locator('svg g.node.kind-subprocess[data-node=ship]').count(), 1);

  await expectText(clerk.locator('#children-title'), 'Child processes (2, 2 running)');
  const children = await childRows(clerk);
  assert.equal(children.length, 2);
  for (const c of children) {
    assert.equal(c.flow, 'Warehouse shipment');
    assert.equal(c.status, 'STARTED');
  }
  assert.match(children[0].task, /^Ship · north \(#\d+\)$/);
  assert.match(children[1].task, /^Ship · south \(#\d+\)$/);
  const [north, south] = children.map((c) => c.id);
  await expectText(clerk.locator(`[data-testid=child-row][data-process-id="${north}"] [data-testid=child-link]`), 'north warehouse: ACME Ltd');
  await screenshot(clerk, 'compose-parent');

  // the Subprocess task links to its child
  const northTask = shipGroup.instances[0].id;
  await openTask(clerk, northTask);
  await expectText(clerk.getByTestId('child-process'), `Child process #${north} — Started`);
  await expectText(clerk.getByTestId('instance-info'), 'Instance 1 of 2: north');
  assert.equal(await clerk.getByTestId('task-form').count(), 0);
  assert.equal(await clerk.locator('[data-testid=task-page] button[data-action]').count(), 0, 'the clerk may not cancel it');

  // the child links back to its parent and the task that started it
  await clerk.getByTestId('child-process').click();
  const child = clerk.locator(`[data-testid=process-page][data-process-id="${north}"]`);
  await child.waitFor();
  await expectText(clerk.getByTestId('process-parent'),
    new RegExp(`Part of process #${pid} \\(Order\\), started by task Ship · north \\(#${northTask}\\)\\.`));
  await expectText(clerk.getByTestId('process-parent').getByTestId('parent-status'), 'Started');
  await screenshot(clerk, 'compose-child');
  await clerk.getByTestId('parent-link').click();
  await clerk.locator(`[data-testid=process-page][data-process-id="${pid}"]`).waitFor();

  // a manager sees the instances in All tasks and may cancel a running group (not done here)
  await openList(max, 'all');
  const allItems = await taskRow(max, 'all', { processId: pid }).evaluateAll((rs) => rs
    .map((r) => (r.querySelector('[data-testid=task-item]') ? r.querySelector('[data-testid=task-item]').textContent.trim() : null))
    .filter(Boolean).sort());
  assert.deepEqual(allItems, ['· ann', '· bob', '· carol', '· north', '· south']);
  await openTask(max, shipGroup.controller.id);
  await expectText(max.getByTestId('action-cancel'), 'Cancel group');
  assert.equal(await max.getByTestId('task-form').count(), 0);
  await openTask(max, approveGroupId);
  assert.equal(await max.locator('[data-testid=task-page] button[data-action]').count(), 0, 'a finished group offers nothing');

  // ---------------------------------------------------------------- the warehouse ships north
  await ship(wendy, north, 2, 'TRK-N1');
  const wChild = await openProcess(wendy, north);
  assert.equal(await wChild.getAttribute('data-status'), 'DONE');
  // the warehouse worker may not see the order: the link stays, without the details
  await expectText(wendy.getByTestId('process-parent'), new RegExp(`Part of process #${pid}, started by task #${northTask}\\.\\s*You may not see that process\\.$`));

  // the parent follows its child: the child is DONE with its own last write, the parent's task
  // takes it over after that (a job worker may be the one, after Complete answered): wait for both
  await eventually(clerk, pid, async () => {
    const rows = await childRows(clerk);
    assert.deepEqual(rows.map((r) => [r.id, r.status]), [[north, 'DONE'], [south, 'STARTED']]);
    assert.match((await group(clerk, 'ship')).controller.text, /1 of 2 done, 1 open$/);
  });
  assert.equal((await chartGroup(clerk, 'ship')).badge, '1 of 2 done');
  await expectText(clerk.getByTestId('data-parcels'), '2');
  await expectText(clerk.locator('#children-title'), 'Child processes (2, 1 running)');
  await openTask(clerk, northTask);
  await expectText(clerk.getByTestId('child-process'), `Child process #${north} — Done`);

  // ---------------------------------------------------------------- then south; the order goes on to the clerk
  await ship(wendy, south, 3, 'TRK-S1');
  await eventually(clerk, pid, async () => {
    assert.match((await group(clerk, 'ship')).controller.text, /^Ship — 2 of 2 done$/);
  });
  await expectText(clerk.getByTestId('data-parcels'), '5');
  const chart = await chartStatuses(clerk);
  assert.equal(chart.ship, 'DONE');
  assert.equal(chart.confirm, 'ASSIGNED');

  await openList(clerk, 'inbox');
  const confirm = taskRow(clerk, 'inbox', { title: 'Confirm the delivery to the customer', processId: pid });
  await confirm.getByTestId('task-link').click();
  await clerk.locator('[data-testid=task-page][data-status=ASSIGNED]').waitFor();
  const confirmId = await clerk.getByTestId('task-page').getAttribute('data-task-id');
  await clerk.getByTestId('action-execute').click();
  await completed(clerk, confirmId);
  const done = await openProcess(clerk, pid);
  assert.equal(await done.getAttribute('data-status'), 'DONE');
  await expectText(clerk.locator('#children-title'), 'Child processes (2)');

  // the process pages fit a phone
  await clerk.setViewportSize({ width: 375, height: 812 });
  await openProcess(clerk, pid);
  await noSideScroll(clerk, 'parent process page');
  await screenshot(clerk, 'compose-parent-phone');
  await openProcess(clerk, south);
  await clerk.getByTestId('process-parent').waitFor();
  await noSideScroll(clerk, 'child process page');

  for (const p of Object.values(pages)) checkPage(p);
});
