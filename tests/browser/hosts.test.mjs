// Several hosts in the UI: two `serve` hosts on one database serve different versions of one
// flow file.  The Flows page shows the hosts line with the host on another version
// highlighted; once the same file is deployed there, it says every host serves this version.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText, go, screenshot,
  apiCall, teardown, WAIT,
} from './lib.mjs';

let dir; let a; let b; let browser; let flowsA; let flowsB;

const docFlow = (extra) => `local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "Doc",
  fields = { text = field.String { label = "Text" } },
  start = flow.Start { title = "New", fields = { "text" } }:Next(this.finish),
  finish = flow.End(),
}
${extra}`;

function save(folder, extra) {
  const path = join(folder, 'doc.lua');
  writeFileSync(`${path}.tmp~`, docFlow(extra));
  renameSync(`${path}.tmp~`, path);
}

before(async () => {
  dir = tempDir('hosts');
  flowsA = join(dir, 'a');
  flowsB = join(dir, 'b');
  mkdirSync(flowsA);
  mkdirSync(flowsB);
  save(flowsA, '');
  save(flowsB, '-- the next release\n');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { admin: { admin: true } });
  a = await startServer({ db, flows: flowsA });
  b = await startServer({ db, flows: flowsB });
  browser = await launchBrowser();
});

after(async () => {
  if (b) await b.stop();
  await teardown({ browser, server: a, dirs: [dir] });
});

async function docItem(page) {
  const res = await apiCall(page, 'GET', '/api/flows');
  assert.equal(res.status, 200);
  return res.body.items.find((f) => f.name === 'doc');
}

async function waitItem(page, check) {
  const deadline = Date.now() + WAIT;
  let item = await docItem(page);
  while (!check(item) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    item = await docItem(page);
  }
  return item;
}

test('the Flows page shows the hosts serving a flow and highlights another version', async () => {
  const page = await newPage(browser, a.url);
  await login(page, 'admin');
  const item = await waitItem(page, (f) => f.hosts.length === 2);
  assert.equal(item.hosts.length, 2);
  const other = item.hosts.find((x) => x.hash !== item.version);
  assert.ok(other, 'host B serves another version');
  assert.ok(other.name.endsWith(`:${new URL(b.url).port}`), other.name);

  await go(page, '#/flows');
  const line = page.locator('[data-testid="flow-card"][data-flow="doc"]').getByTestId('flow-hosts');
  await line.waitFor();
  assert.equal(await line.getAttribute('data-hosts'), '2');
  assert.equal(await line.getAttribute('data-mismatched'), '1');
  await expectText(line, /1 of 2 hosts serve another version/);
  const differs = line.locator('.flow-host-differs');
  assert.equal(await differs.count(), 1);
  assert.equal(await differs.getAttribute('data-host'), other.name);
  assert.equal(await differs.getAttribute('data-hash'), other.hash);
  await screenshot(page, 'hosts-mismatch');

  save(flowsB, '');   // the deploy reaches host B
  await waitItem(page, (f) => f.hosts.every((x) => x.hash === f.version));
  await go(page, '#/flows');
  await page.reload();
  const again = page.locator('[data-testid="flow-card"][data-flow="doc"]').getByTestId('flow-hosts');
  await again.waitFor();
  assert.equal(await again.getAttribute('data-mismatched'), '0');
  await expectText(again, /All 2 hosts serve this version/);
  assert.equal(await again.locator('.flow-host-differs').count(), 0);
  checkPage(page);
});
