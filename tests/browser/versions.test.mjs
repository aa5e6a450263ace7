// Versions in the UI: a "pin" flow edited while a process runs.  The Flows page shows the
// version loaded, the running processes per version and the report of the edit (the step
// the running process waits at was renamed: stranded, with the rename-node command); the
// process page of the pinned process says which version it runs on.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText, go, screenshot,
  apiCall, teardown, WAIT,
} from './lib.mjs';

let dir; let flows; let server; let browser;

const docFlow = (step) => `local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "Doc",
  version = "pin",
  fields = { text = field.String { label = "Text" } },
  start = flow.Start { title = "New", fields = { "text" } }:Next(this.${step}),
  ${step} = flow.View { title = "Step", fields = { "text" } }:Next(this.finish),
  finish = flow.End(),
}
`;

function save(step) {
  const path = join(flows, 'doc.lua');
  writeFileSync(`${path}.tmp~`, docFlow(step));
  renameSync(`${path}.tmp~`, path);
}

before(async () => {
  dir = tempDir('versions');
  flows = join(dir, 'flows');
  mkdirSync(flows);
  save('write');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { admin: { admin: true } });
  server = await startServer({ db, flows });
  browser = await launchBrowser();
});

after(() => teardown({ browser, server, dirs: [dir] }));

async function docItem(page) {
  const res = await apiCall(page, 'GET', '/api/flows');
  assert.equal(res.status, 200);
  return res.body.items.find((f) => f.name === 'doc');
}

test('the Flows page shows versions, counts and the edit report; the process page its version', async () => {
  const page = await newPage(browser, server.url);
  await login(page, 'admin');
  const v1 = (await docItem(page)).version;
  const start = async (text) => {
    const res = await apiCall(page, 'POST', '/api/flows/doc/start/start', { data: { text } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.process.id;
  };
  const p1 = await start('old');
  save('draft');
  const deadline = Date.now() + WAIT;
  let item = await docItem(page);
  while (item.version === v1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    item = await docItem(page);
  }
  const v2 = item.version;
  assert.notEqual(v2, v1, 'the edit was loaded');
  await start('new');

  await go(page, '#/flows');
  const card = page.locator('[data-testid="flow-card"][data-flow="doc"]');
  const block = card.getByTestId('flow-versions');
  await block.waitFor();
  assert.equal(await block.getAttribute('data-version'), v2);
  assert.equal(await block.getAttribute('data-mode'), 'pin');
  const counts = block.getByTestId('version-count');
  assert.equal(await counts.count(), 2);
  for (const v of [v1, v2]) {
    assert.equal(await block.locator(`[data-testid="version-count"][data-version="${v}"]`).getAttribute('data-running'), '1');
  }
  const report = block.getByTestId('reload-report');
  assert.equal(await report.getAttribute('data-stranded'), 'true');
  await expectText(report.locator('p').first(), /it would strand running work; the running processes stay on their version\./);
  await expectText(report.getByTestId('reload-finding').first(), /Step “write” was removed — 1 process; looks renamed: flowhost rename-node doc write draft/);
  await screenshot(page, 'versions-flows');

  await go(page, `#/processes/${p1}`);
  const note = page.getByTestId('process-version');
  await note.waitFor();
  assert.equal(await note.getAttribute('data-version'), v1);
  await expectText(note, new RegExp(`Runs on version ${v1.slice(0, 8)} \\(pinned; the flow has a newer version\\)`));
  await screenshot(page, 'versions-process');
  checkPage(page);
});
