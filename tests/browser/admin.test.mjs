// Issue 14: the administration screens (users, groups, permissions per flow, tokens of
// a user, scheduled work, incidents) driven by an admin, desktop and phone screenshots;
// a non-admin is told the pages are not theirs. Defect 1: a queue candidate opens the
// process of a task it may take. Defect 3: a failing handler reads plainly to an end
// user, with the Lua traceback to a manager. A manager assigns a NEW task to a person.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, cli, startServer, launchBrowser, newPage, login, checkPage, expectText,
  go, screenshot, apiCall, startHelloworld, copyFlows, teardown, openList, taskRow, SOURCE, WAIT,
} from './lib.mjs';

let dir; let flowsDir; let server; let browser;
let admin; let alice; let quinn; let mgr; let phone;
let db;

before(async () => {
  dir = tempDir('admin');
  db = join(dir, 'flowhost.db');
  flowsDir = copyFlows({
    'ops.lua': join(SOURCE, 'tests', 'fixtures', 'admin', 'ops.lua'),
    'raising.lua': join(SOURCE, 'tests', 'fixtures', 'http', 'raising.lua'),
  });
  addUsers(db, {
    root: { admin: true },
    alice: { grants: ['helloworld.start'] },
    quinn: {},
    mgr: { grants: ['helloworld.manage', 'raising.manage'] },
  });
  cli(db, 'token', 'create', 'alice', '--name', 'laptop');
  server = await startServer({ db, flows: flowsDir });
  browser = await launchBrowser();
  [admin, alice, quinn, mgr] = await Promise.all([
    newPage(browser, server.url), newPage(browser, server.url), newPage(browser, server.url), newPage(browser, server.url)]);
  await login(admin, 'root');
  await login(alice, 'alice');
  await login(quinn, 'quinn');
  await login(mgr, 'mgr');
});

after(() => teardown({ browser, server, dirs: [dir, join(flowsDir, '..')] }));

test('users: create with a one-time password, disable, enable, reset the password, tokens', async () => {
  await go(admin, '#/admin/users', 'Users');
  await admin.locator('[data-testid=user-row][data-user=alice]').waitFor();
  await admin.getByTestId('new-user-name').fill('zoe');
  await admin.getByTestId('new-user-submit').click();
  const pw = await expectText(admin.getByTestId('new-password-value'), /^[0-9a-f]{16}$/);
  await admin.locator('[data-testid=user-row][data-user=zoe]').waitFor();
  await screenshot(admin, 'admin-users');

  await admin.locator('[data-testid=user-row][data-user=zoe]').getByTestId('user-link').click();
  await expectText(admin.getByTestId('page-title').first(), 'zoe');
  await admin.getByTestId('user-disable').click();
  await admin.locator('#confirm-ok').click();
  await admin.getByTestId('user-enable').waitFor();
  let res = await apiCall(admin, 'GET', '/api/users/zoe');
  assert.equal(res.body.user.active, false, 'zoe is disabled');
  await admin.getByTestId('user-enable').click();
  await admin.getByTestId('user-disable').waitFor();
  await admin.getByTestId('user-reset-password').click();
  await admin.locator('#confirm-ok').click();
  const pw2 = await expectText(admin.getByTestId('new-password-value'), /^[0-9a-f]{16}$/);
  assert.notEqual(pw, pw2, 'a new password');
  res = await apiCall(admin, 'GET', '/api/users/zoe');
  assert.equal(res.body.user.active, true);

  // alice's token: listed, then revoked
  await go(admin, '#/admin/users/alice', 'alice');
  await admin.getByTestId('token-row').waitFor();
  await expectText(admin.getByTestId('tokens-table'), /laptop/);
  await screenshot(admin, 'admin-user');
  await admin.getByTestId('token-revoke').click();
  await admin.getByTestId('user-tokens-panel').getByTestId('empty').waitFor();
  res = await apiCall(admin, 'GET', '/api/users/alice/tokens');
  assert.deepEqual(res.body.items, []);
  checkPage(admin);
});

test('groups and permissions per flow: quinn joins the approvers, who may approve', async () => {
  await go(admin, '#/admin/groups', 'Groups');
  await admin.getByTestId('new-group-name').fill('approvers');
  await admin.getByTestId('new-group-submit').click();
  const card = admin.locator('[data-testid=group-card][data-group=approvers]');
  await card.waitFor();
  await card.getByTestId('group-add-member-name').fill('quinn');
  await card.getByTestId('group-add-member-submit').click();
  await expectText(card.getByTestId('group-members'), /quinn/);
  await card.getByTestId('group-grant-permission').fill('helloworld.approve');
  await card.getByTestId('group-grant-submit').click();
  await expectText(card.getByTestId('group-grants'), /helloworld\.approve/);
  await screenshot(admin, 'admin-groups');

  await go(admin, '#/admin/permissions', 'Permissions');
  const row = admin.locator('[data-testid=flow-permissions][data-flow=helloworld] [data-testid=permission-row][data-permission="helloworld.approve"]');
  await expectText(row.getByTestId('permission-holder'), /@approvers/);
  // a quick grant from the permissions page: mgr may now start hello world too
  const start = admin.locator('[data-testid=flow-permissions][data-flow=helloworld] [data-testid=permission-row][data-permission="helloworld.start"]');
  await start.getByTestId('permission-subject').selectOption('mgr');
  await start.getByTestId('permission-grant-submit').click();
  await expectText(start.getByTestId('permission-holder'), /mgr/);
  await screenshot(admin, 'admin-permissions');
  checkPage(admin);
});

test('scheduled work with attempts, and incidents with their traceback', async () => {
  let r = await apiCall(admin, 'POST', '/api/flows/ops/start/start', { data: {} });
  assert.equal(r.status, 201);
  r = await apiCall(admin, 'POST', '/api/flows/ops/start/broken', { data: {} });
  assert.equal(r.status, 201);
  // the worker fails the flaky job once (it waits an hour for the next try) and runs the
  // broken process into its incident; on a loaded machine that may take a while: wait for
  // both through the API, and say so if they never come
  let last;
  for (const deadline = Date.now() + WAIT; ;) {
    last = await apiCall(admin, 'GET', '/api/admin/scheduled');
    const incidents = await apiCall(admin, 'GET', '/api/admin/incidents?flow=ops');
    if (last.status === 200 && last.body.items.some((t) => t.attempts >= 1)
        && incidents.status === 200 && incidents.body.items.length >= 1) break;
    assert.ok(Date.now() < deadline, `the flaky job was not tried once, or no incident: ${JSON.stringify(last)} ${JSON.stringify(incidents)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  await go(admin, '#/admin/scheduled', 'Scheduled work');
  await admin.getByTestId('scheduled-table').waitFor();
  // the flaky job's own row: other scheduled work (due now) may be listed before it
  const flaky = admin.getByTestId('scheduled-row').filter({ hasText: 'Flaky' });
  await expectText(flaky.getByTestId('scheduled-attempts'), '1');
  await expectText(flaky.getByTestId('scheduled-error'), /flaky failed again/);
  await screenshot(admin, 'admin-scheduled');

  await go(admin, '#/admin', 'Admin');
  await admin.getByTestId('admin-tabs').waitFor();
  const card = admin.getByTestId('error-task').first();
  await expectText(card.getByTestId('error-message'), /always broken/);
  await card.locator('details.traceback summary').click();
  await expectText(card.getByTestId('error-traceback'), /stack traceback/);
  await screenshot(admin, 'admin-incidents');
  checkPage(admin);
});

test('phone: the admin screens fit a phone', async () => {
  phone = admin;   // the admin's own session, at a phone's width
  await phone.setViewportSize({ width: 390, height: 844 });
  for (const [hash, title, name] of [['#/admin/users', 'Users', 'admin-users-phone'],
    ['#/admin/groups', 'Groups', 'admin-groups-phone'], ['#/admin/scheduled', 'Scheduled work', 'admin-scheduled-phone']]) {
    await go(phone, hash, title);
    await phone.waitForTimeout(100);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${hash} scrolls sideways by ${overflow}px on a phone`);
    await screenshot(phone, name);
  }
  await phone.setViewportSize({ width: 1280, height: 900 });
  checkPage(phone);
});

test('a non-admin is told the administration pages are not theirs', async () => {
  await go(alice, '#/admin/users');
  await alice.getByTestId('admin-forbidden').waitFor();
  checkPage(alice);
});

test('defect 1: a queue candidate opens the process of a task it may take', async () => {
  const pid = await startHelloworld(alice, 'For the approvers');
  await openList(quinn, 'queue');
  const row = taskRow(quinn, 'queue', { processId: pid });
  await row.waitFor();
  await row.locator(`a[href="#/processes/${pid}"]`).click();
  const proc = quinn.locator(`[data-testid=process-page][data-process-id="${pid}"]`);
  await proc.waitFor();
  await expectText(quinn.getByTestId('page-title').first(), /For the approvers/);
  assert.equal(await quinn.getByTestId('process-cancel').count(), 0, 'read-only: no Cancel');
  await screenshot(quinn, 'candidate-process');
  checkPage(quinn);
});

test('a manager assigns a NEW task to a named person', async () => {
  const pid = await startHelloworld(alice, 'Hand me over');
  const res = await apiCall(mgr, 'GET', `/api/processes/${pid}`);
  const approve = res.body.tasks.find((t) => t.node === 'approve');
  await go(mgr, `#/tasks/${approve.id}`);
  await expectText(mgr.getByTestId('action-reassign'), 'Assign to');
  await mgr.getByTestId('reassign-user').fill('quinn');
  await mgr.getByTestId('action-reassign').click();
  for (let i = 0; i < 100; i++) {
    const t = await apiCall(mgr, 'GET', `/api/tasks/${approve.id}`);
    if (t.body.task.owner === 'quinn') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const t = await apiCall(mgr, 'GET', `/api/tasks/${approve.id}`);
  assert.equal(t.body.task.status, 'ASSIGNED');
  assert.equal(t.body.task.owner, 'quinn');
  checkPage(mgr);
});

test('defect 3: a failing handler reads plainly to an end user, with the traceback to a manager', async () => {
  for (const [page, who] of [[alice, 'user'], [mgr, 'manager']]) {
    await go(page, '#/start/raising/quick');
    const form = page.getByTestId('start-form');
    await form.waitFor();
    await form.getByTestId('field-text').fill('q');
    await form.getByTestId('field-explode').check();
    await form.getByTestId('start-submit').click();
    const err = page.getByTestId('form-error');
    if (who === 'user') {
      await expectText(err, /The step 'Act' of the process failed.*administrator can see the details/);
      assert.equal(await err.getByTestId('flow-error-details').count(), 0, 'no traceback for an end user');
      assert.ok(!/boom/.test(await err.textContent()), 'no Lua error for an end user');
      await screenshot(page, 'flow-error-user');
    } else {
      await expectText(err, /boom: the handler refused 'q'/);
      await err.getByTestId('flow-error-details').locator('summary').click();
      await expectText(err.getByTestId('flow-error-traceback'), /stack traceback/);
      await screenshot(page, 'flow-error-manager');
    }
    page.pageErrors = page.pageErrors.filter((e) => !/422|Unprocessable/.test(e));
    checkPage(page);
  }
});
