// External tasks in the web UI (issue 15), on tests/fixtures/flows/external.lua.
//
// The task page of an External task shows its topic, the worker holding its lease (none
// before a fetch), until when, and its failed attempts; it offers people no execute form.
// The fetch and fail are a worker's calls, made here through the API with the page's session.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, cpSync } from 'node:fs';
import {
  SOURCE, tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  screenshot, apiCall, go, teardown,
} from './lib.mjs';

let dir; let server; let browser; let page;

before(async () => {
  dir = tempDir('external');
  const flows = join(dir, 'flows');
  mkdirSync(flows);
  cpSync(join(SOURCE, 'tests', 'fixtures', 'flows', 'external.lua'), join(flows, 'external.lua'));
  const db = join(dir, 'flowhost.db');
  addUsers(db, { mona: { grants: ['external.manage', 'external.pdf'] } });
  server = await startServer({ db, flows });
  browser = await launchBrowser();
  page = await newPage(browser, server.url);
  await login(page, 'mona');
});

after(() => teardown({ browser, server, dirs: [dir] }));

async function openTask(id) {
  await go(page, `#/tasks/${id}`);
  const el = page.locator(`[data-testid=task-page][data-task-id="${id}"]`);
  await el.waitFor();
  return el;
}

test('the task page shows topic, worker, lease until and attempts of an external task', async () => {
  const started = await apiCall(page, 'POST', '/api/flows/external/start/start', { data: { doc: 'invoice' } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const render = started.body.tasks.find((t) => t.node === 'render');
  assert.ok(render, 'the process waits at render');

  let el = await openTask(render.id);
  const panel = el.getByTestId('external-panel');
  await expectText(panel.getByTestId('external-topic'), 'pdf');
  await expectText(panel.getByTestId('external-worker'), 'none');
  await expectText(panel.getByTestId('external-attempts'), '0');
  await expectText(panel.getByTestId('external-lead'), /Waiting for a worker/);
  assert.equal(await el.getByTestId('task-form').count(), 0, 'no form for people');

  const fetched = await apiCall(page, 'POST', '/api/external/fetch', { worker: 'w1', topics: ['pdf'], lease: 300 });
  assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
  assert.equal(fetched.body.items[0].id, render.id);
  await go(page, '#/');
  el = await openTask(render.id);
  await expectText(el.getByTestId('external-worker'), 'w1');
  await expectText(el.getByTestId('external-lead'), /Worker w1 is working on it/);
  await expectText(el.getByTestId('external-lease'), /./);
  await screenshot(page, 'external-task-leased');

  const failed = await apiCall(page, 'POST', `/api/external/${render.id}/fail`, { worker: 'w1', message: 'paper jam' });
  assert.equal(failed.status, 200, JSON.stringify(failed.body));
  await go(page, '#/');
  el = await openTask(render.id);
  await expectText(el.getByTestId('external-attempts'), '1');
  await expectText(el.getByTestId('external-worker'), 'none');
  await expectText(el.getByTestId('task-error-message'), 'paper jam');
  checkPage(page);
});
