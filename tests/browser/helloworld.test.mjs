// Scenario 1: two users take hello world from start to finish in the browser.
// alice starts it through the start form; bob takes it from the queue, approves it
// through the task form, finds it in his archive and opens the process page, whose
// chart colours every node by the status of its task.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  go, screenshot, chartStatuses, chartStrokes, teardown, completed,
} from './lib.mjs';

let dir; let server; let browser;

before(async () => {
  dir = tempDir('helloworld');
  const db = join(dir, 'flowhost.db');
  addUsers(db, {
    alice: { grants: ['helloworld.start'] },
    bob: { grants: ['helloworld.approve'] },
  });
  server = await startServer({ db });
  browser = await launchBrowser();
});

after(() => teardown({ browser, server, dirs: [dir] }));

test('alice starts, bob assigns and approves, the process ends DONE', async () => {
  const message = 'Hello from the browser test';

  // ---- alice: the start form
  const alice = await newPage(browser, server.url);
  await login(alice, 'alice');
  await screenshot(alice, 'inbox-empty');
  await alice.getByTestId('nav-start').click();
  await alice.getByTestId('start-list').waitFor();
  await screenshot(alice, 'start-list');
  await alice.getByTestId('start-helloworld-start').click();
  const form = alice.getByTestId('start-form');
  await form.waitFor();
  await form.getByTestId('field-text').fill(message);
  await screenshot(alice, 'start-form');
  await form.getByTestId('start-submit').click();

  // the new process page
  const procPage = alice.getByTestId('process-page');
  await procPage.waitFor();
  const processId = await procPage.getAttribute('data-process-id');
  assert.match(processId, /^\d+$/);
  await expectText(alice.getByTestId('flash-message').last(), new RegExp(`Started process #${processId}: Send '${message}'`));
  assert.equal(await procPage.getAttribute('data-status'), 'STARTED');
  await expectText(procPage.getByTestId('data-text'), message);
  let chart = await chartStatuses(alice);
  assert.equal(chart.start, 'DONE', 'start node is DONE');
  assert.equal(chart.approve, 'NEW', 'approve waits in the queue');
  assert.equal(chart.finish, null, 'finish has no task yet');
  // and the colours differ: the status colours of style.css (--st-DONE-line, --st-NEW-line)
  const strokes = await chartStrokes(alice);
  assert.equal(strokes.start, 'rgb(22, 163, 74)');
  assert.equal(strokes.approve, 'rgb(99, 102, 241)');
  assert.notEqual(strokes.finish, strokes.start);
  // alice may not approve: nothing in her queue
  await go(alice, '#/queue', 'Queue');
  await alice.getByTestId('queue-list').getByTestId('empty').waitFor();
  checkPage(alice);

  // ---- bob: queue → assign → inbox → task form → archive → process
  const bob = await newPage(browser, server.url);
  await login(bob, 'bob');
  await expectText(bob.getByTestId('count-queue'), '1');
  await bob.getByTestId('nav-queue').click();
  const row = bob.getByTestId('queue-table').getByTestId('task-row');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.equal(await row.getAttribute('data-status'), 'NEW');
  const taskId = await row.getAttribute('data-task-id');
  await expectText(row.getByTestId('task-link'), new RegExp(`^Approve\\s*#${taskId}$`));
  await screenshot(bob, 'queue');
  await row.getByTestId('queue-assign').click();
  await expectText(bob.getByTestId('flash-message').last(), /“Approve” is now assigned to you/);
  await bob.getByTestId('queue-list').getByTestId('empty').waitFor();
  await expectText(bob.getByTestId('count-inbox'), '1');

  await bob.getByTestId('nav-inbox').click();
  const inboxRow = bob.getByTestId('inbox-table').locator(`[data-testid=task-row][data-task-id="${taskId}"]`);
  await inboxRow.waitFor();
  assert.equal(await inboxRow.getAttribute('data-status'), 'ASSIGNED');
  await screenshot(bob, 'inbox');
  await inboxRow.getByTestId('task-link').click();

  const taskPage = bob.getByTestId('task-page');
  await taskPage.waitFor();
  assert.equal(await taskPage.getAttribute('data-task-id'), taskId);
  assert.equal(await taskPage.getAttribute('data-status'), 'ASSIGNED');
  await expectText(bob.getByTestId('task-owner'), 'bob');
  await expectText(bob.getByTestId('process-data').getByTestId('data-text'), message);
  const approved = bob.getByTestId('task-form').getByTestId('field-approved');
  assert.equal(await approved.isChecked(), false);
  await approved.check();
  await screenshot(bob, 'task-form');
  await bob.getByTestId('task-form').getByTestId('action-execute').click();
  await expectText(bob.getByTestId('flash-message').last(), /“Approve” is done/);
  // nothing else for bob in this process: Complete goes back to the inbox (issue 14)
  assert.equal(await completed(bob, taskId), '#/inbox');
  await go(bob, `#/tasks/${taskId}`);
  await bob.locator('[data-testid=task-page][data-status=DONE]').waitFor();
  await expectText(bob.getByTestId('task-status'), 'Done');
  await expectText(bob.getByTestId('process-status'), 'Done');
  assert.equal(await bob.getByTestId('task-form').getByTestId('action-execute').count(), 0,
    'a done task offers no Complete button');

  await bob.getByTestId('nav-archive').click();
  const archived = bob.getByTestId('archive-table').locator(`[data-testid=task-row][data-task-id="${taskId}"]`);
  await archived.waitFor();
  assert.equal(await archived.getAttribute('data-status'), 'DONE');
  await screenshot(bob, 'archive');
  await archived.getByRole('link', { name: `Send '${message}'` }).click();

  const done = bob.locator(`[data-testid=process-page][data-process-id="${processId}"]`);
  await done.waitFor();
  assert.equal(await done.getAttribute('data-status'), 'DONE');
  await expectText(done.getByTestId('data-approved'), 'Yes');
  assert.equal(await done.getByTestId('data-sent_at').count(), 1, 'the handler set sent_at');
  chart = await chartStatuses(bob);
  assert.deepEqual(chart, {
    start: 'DONE', approve: 'DONE', check_approve: 'DONE', send: 'DONE', finish: 'DONE',
  });
  // the colour is applied too (a class per status, styled by style.css)
  const fills = await bob.getByTestId('process-chart').locator('svg g.node.st-DONE').count();
  assert.equal(fills, 5);
  const history = bob.getByTestId('history-table').getByTestId('history-row');
  assert.deepEqual(await history.evaluateAll((rs) => rs.map((r) => `${r.dataset.node}:${r.dataset.status}`)),
    ['start:DONE', 'approve:DONE', 'check_approve:DONE', 'send:DONE', 'finish:DONE']);
  // bob manages nothing: no Cancel on the process
  assert.equal(await bob.getByTestId('process-cancel').count(), 0);
  await screenshot(bob, 'process-done');

  // the list of processes: the one he took part in, DONE
  await bob.getByTestId('nav-processes').click();
  const listed = bob.getByTestId('processes-table').getByTestId('process-row');
  await listed.first().waitFor();
  assert.deepEqual(await listed.evaluateAll((rs) => rs.map((r) => `${r.dataset.processId}:${r.dataset.status}`)),
    [`${processId}:DONE`]);
  await screenshot(bob, 'processes');
  checkPage(bob);
});
