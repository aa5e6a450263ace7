// Scenario 3: what a user may not do is not offered. alice may start hello world
// but not approve it: no queue entry, no "Assign to me" on the task page, no
// Cancel on the process page. bob may approve: he gets the queue entry and the
// assign button, but no Cancel either. mia manages the flow (helloworld.manage):
// she gets Cancel on the process and on the task, and uses it.
// (A user sees a process once he took part in it: bob sees it after assigning.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  go, screenshot, apiCall, startHelloworld, taskRow, teardown,
} from './lib.mjs';

let dir; let server; let browser;
let alice; let bob; let mia;
let processId; let taskId;

before(async () => {
  dir = tempDir('permissions');
  const db = join(dir, 'flowhost.db');
  addUsers(db, {
    alice: { grants: ['helloworld.start'] },
    bob: { grants: ['helloworld.approve'] },
    mia: { grants: ['helloworld.manage'] },
  });
  server = await startServer({ db });
  browser = await launchBrowser();
  [alice, bob, mia] = await Promise.all([
    newPage(browser, server.url), newPage(browser, server.url), newPage(browser, server.url)]);
  await login(alice, 'alice');
  await login(bob, 'bob');
  await login(mia, 'mia');
  processId = await startHelloworld(alice, 'Please approve me');
  const res = await apiCall(alice, 'GET', `/api/processes/${processId}`);
  const approve = res.body.tasks.find((t) => t.node === 'approve');
  assert.ok(approve, 'the process has an approve task');
  assert.equal(approve.status, 'NEW');
  taskId = String(approve.id);
});

after(() => teardown({ browser, server, dirs: [dir] }));

test('without the approve permission: no queue entry, no assign button, no process Cancel', async () => {
  // the process page: not a manager, no Cancel
  await go(alice, `#/processes/${processId}`);
  const proc = alice.locator(`[data-testid=process-page][data-process-id="${processId}"]`);
  await proc.waitFor();
  await expectText(alice.getByTestId('process-status'), 'Started');
  assert.equal(await alice.getByTestId('process-cancel').count(), 0, 'no Cancel for a non-manager');

  // the queue: empty, and the counter agrees
  await alice.getByTestId('nav-queue').click();
  await alice.getByTestId('queue-list').getByTestId('empty').waitFor();
  assert.equal(await alice.getByTestId('queue-assign').count(), 0);
  const count = alice.getByTestId('count-queue');
  assert.ok(!(await count.isVisible()) || (await count.textContent()).trim() === '0');
  await screenshot(alice, 'queue-empty-no-permission');

  // the task page itself (she started the process, so she may look): no assign, no form to fill
  await go(alice, `#/tasks/${taskId}`);
  const taskPage = alice.locator(`[data-testid=task-page][data-task-id="${taskId}"]`);
  await taskPage.waitFor();
  assert.equal(await taskPage.getAttribute('data-status'), 'NEW');
  assert.equal(await alice.getByTestId('action-assign').count(), 0, 'no assign button');
  assert.equal(await alice.getByTestId('action-execute').count(), 0, 'no Complete button');
  assert.equal(await alice.getByTestId('action-cancel').count(), 0, 'no task Cancel');
  await expectText(alice.getByTestId('task-actions'), /nothing you can do/);
  assert.equal(await alice.getByTestId('task-form').getByTestId('field-approved').isDisabled(), true);
  await screenshot(alice, 'task-not-allowed');

  // and the server agrees that the button would have been wrong
  const res = await apiCall(alice, 'POST', `/api/tasks/${taskId}/assign`);
  assert.equal(res.status, 403);

  // the Admin page is not in her menu; typed in, it says it is for managers
  assert.equal(await alice.getByTestId('nav-admin').isVisible(), false);
  await go(alice, '#/admin', 'Admin');
  await alice.getByTestId('admin-forbidden').waitFor();
  checkPage(alice);
});

test('bob (approve permission) is offered assign, but no Cancel; a start he may not do is not listed', async () => {
  await bob.getByTestId('nav-queue').click();
  const row = taskRow(bob, 'queue', { id: taskId });
  await row.waitFor();
  assert.equal(await row.getByTestId('queue-assign').count(), 1);

  await go(bob, `#/tasks/${taskId}`);
  await bob.locator(`[data-testid=task-page][data-task-id="${taskId}"]`).waitFor();
  const buttons = bob.getByTestId('task-actions').locator('button[data-action]');
  assert.deepEqual(await buttons.evaluateAll((bs) => bs.map((b) => b.dataset.action)), ['assign']);

  // he takes it from the task page; then it is his to complete or give back, nothing more
  await bob.getByTestId('task-actions').getByTestId('action-assign').click();
  await bob.locator(`[data-testid=task-page][data-task-id="${taskId}"][data-status=ASSIGNED]`).waitFor();
  await expectText(bob.getByTestId('task-owner'), 'bob');
  assert.deepEqual(await buttons.evaluateAll((bs) => bs.map((b) => b.dataset.action)), ['unassign']);
  assert.equal(await bob.getByTestId('task-form').getByTestId('action-execute').isEnabled(), true);
  assert.equal(await bob.getByTestId('task-form').getByTestId('field-approved').isDisabled(), false);

  // having taken part, he may see the process, but not cancel it
  await bob.getByTestId('process-link').click();
  await bob.locator(`[data-testid=process-page][data-process-id="${processId}"]`).waitFor();
  assert.equal(await bob.getByTestId('process-cancel').count(), 0);

  await bob.getByTestId('nav-start').click();
  await expectText(bob.getByTestId('page-title'), 'Start a process');
  await bob.getByTestId('empty').waitFor();
  assert.equal(await bob.getByTestId('start-helloworld-start').count(), 0, 'bob may not start hello world');
  // typed in, the start form is not offered either
  await go(bob, '#/start/helloworld/start');
  await bob.getByTestId('start-forbidden').waitFor();
  assert.equal(await bob.getByTestId('start-submit').count(), 0);
  checkPage(bob);
});

test('the manager is offered Cancel and can use it', async () => {
  await go(mia, `#/tasks/${taskId}`);
  await mia.locator(`[data-testid=task-page][data-task-id="${taskId}"]`).waitFor();
  const buttons = mia.getByTestId('task-actions').locator('button[data-action]');
  const offered = await buttons.evaluateAll((bs) => bs.map((b) => b.dataset.action));
  assert.ok(offered.includes('cancel'), `a manager may cancel the task (offered: ${offered})`);
  assert.ok(offered.includes('reassign'), `a manager may reassign the task (offered: ${offered})`);
  assert.ok(!offered.includes('execute'), 'managing is not approving: no Complete');
  assert.equal(await mia.getByTestId('nav-admin').isVisible(), true, 'a manager sees the Admin page');

  // her Admin page works (no task in error here)
  await mia.getByTestId('nav-admin').click();
  await expectText(mia.getByTestId('page-title'), /^Admin/);
  await mia.getByTestId('empty').waitFor();
  assert.equal(await mia.getByTestId('admin-forbidden').count(), 0);
  await screenshot(mia, 'admin');

  await go(mia, `#/processes/${processId}`);
  await mia.locator(`[data-testid=process-page][data-process-id="${processId}"]`).waitFor();
  const cancel = mia.getByTestId('process-cancel');
  await cancel.waitFor();
  await screenshot(mia, 'process-manager');

  // the confirmation: "Keep it running" does nothing
  await cancel.click();
  const dialog = mia.getByTestId('confirm-dialog');
  await dialog.waitFor({ state: 'visible' });
  await mia.getByTestId('confirm-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  await expectText(mia.getByTestId('process-status'), 'Started');

  await cancel.click();
  await dialog.waitFor({ state: 'visible' });
  await screenshot(mia, 'process-cancel-confirm');
  await mia.getByTestId('confirm-ok').click();
  await mia.locator('[data-testid=process-page][data-status=CANCELED]').waitFor();
  await expectText(mia.getByTestId('flash-message').last(), `Process #${processId} was canceled.`);
  assert.equal(await mia.getByTestId('process-cancel').count(), 0, 'no Cancel on a canceled process');
  const rows = mia.getByTestId('history-row');
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => `${r.dataset.node}:${r.dataset.status}`)),
    ['start:DONE', 'approve:CANCELED']);

  // bob's inbox is empty now
  await bob.getByTestId('nav-inbox').click();
  await bob.getByTestId('inbox-list').getByTestId('empty').waitFor();
  checkPage(mia);
  checkPage(bob);
});
