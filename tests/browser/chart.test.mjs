// The flow chart (issue 14): BPMN shapes by node kind, titles of gateways and events on
// the chart, branches labelled by their condition, text at least 12 px, fit to width at
// 1280 px, zoom (buttons, ctrl+wheel) and pan (drag), and a click or Enter on a node
// lists its tasks of the process with links. Desktop and phone screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, go, screenshot, chartStatuses,
  apiCall, teardown, WAIT,
} from './lib.mjs';

let dir; let server; let browser;

before(async () => {
  dir = tempDir('chart');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { clerk: { grants: ['shipment.start', 'shipment.clerk', 'shipment.package', 'shipment.manage'] } });
  server = await startServer({ db });
  browser = await launchBrowser();
});

after(() => teardown({ browser, server, dirs: [dir] }));

const SHIPMENT = {
  customer_name: 'Ada', customer_email: 'ada@example.com', address: '1 Road', ship_date: '2030-01-15', weight: 2, goods_value: 50,
};

/** Boxes of text elements in screen pixels: [{text, x0, y0, x1, y1, size}]. */
async function textBoxes(page, selector) {
  return page.locator(selector).evaluateAll((els) => els.map((t) => {
    const r = t.getBoundingClientRect();
    return { text: t.textContent.trim(), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, size: r.height };
  }).filter((b) => b.text));
}

test('the shipment chart: shapes, titles, condition labels, readable text, zoom, pan, node tasks', async () => {
  const page = await newPage(browser, server.url, { viewport: { width: 1280, height: 900 } });
  await login(page, 'clerk');
  const started = await apiCall(page, 'POST', '/api/flows/shipment/start/start', { data: SHIPMENT });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const pid = started.body.process.id;
  await go(page, `#/processes/${pid}`);
  const statuses = await chartStatuses(page);
  assert.equal(statuses.start, 'DONE');
  assert.equal(statuses.set_shipment_type, 'NEW');
  const chart = page.getByTestId('process-chart');
  const svg = chart.locator('svg.chart-svg');

  // shapes by kind: start a thin circle, end a thick one, gateways diamonds with × / +
  const shape = (node) => chart.locator(`svg g.node[data-node=${node}] :is(ellipse, polygon, path)`).first();
  assert.equal(await shape('start').evaluate((e) => e.localName), 'ellipse');
  assert.equal(await shape('finish').evaluate((e) => e.localName), 'ellipse');
  const endWidth = await shape('finish').evaluate((e) => parseFloat(getComputedStyle(e).strokeWidth));
  const startWidth = await shape('start').evaluate((e) => parseFloat(getComputedStyle(e).strokeWidth));
  assert.ok(endWidth >= 3 && endWidth > startWidth, `end ${endWidth}px thicker than start ${startWidth}px`);
  assert.equal(await shape('delivery_mode').evaluate((e) => e.localName), 'polygon');
  assert.equal(await shape('delivery_mode').evaluate((e) => e.getAttribute('points').split(' ').length), 5, 'a diamond');
  const texts = async (node) => chart.locator(`svg g.node[data-node=${node}] text`).allTextContents();
  assert.deepEqual((await texts('delivery_mode')).map((s) => s.trim()).sort(), ['Delivery mode', '×'].sort());
  assert.ok((await texts('split_clerk_warehouse')).map((s) => s.trim()).includes('+'));
  // markers: a person in each user task, none on gateways
  assert.equal(await chart.locator('svg g.node.kind-view g.chart-icon.icon-view').count(),
    await chart.locator('svg g.node.kind-view').count());
  assert.equal(await chart.locator('svg g.node.kind-split g.chart-icon').count(), 0);
  // a conditional Split branch is labelled by its condition, never "if"
  const edgeTexts = (await chart.locator('svg g.edge text').allTextContents()).map((s) => s.trim());
  assert.ok(edgeTexts.includes('Need extra insurance?'), edgeTexts.join('|'));
  assert.ok(!edgeTexts.includes('if'));

  // fitted at 1280 px: every text at least 12 px; titles of events and edge labels do not collide
  const nodeTexts = await textBoxes(page, '[data-testid=process-chart] svg g.node text');
  const edgeBoxes = await textBoxes(page, '[data-testid=process-chart] svg g.edge text');
  for (const b of [...nodeTexts, ...edgeBoxes]) assert.ok(b.size >= 12, `"${b.text}" is ${b.size}px`);
  const overlap = (a, b) => a.x0 < b.x1 - 1 && b.x0 < a.x1 - 1 && a.y0 < b.y1 - 1 && b.y0 < a.y1 - 1;
  for (const n of nodeTexts) {
    for (const e of edgeBoxes) assert.ok(!overlap(n, e), `"${n.text}" collides with "${e.text}"`);
  }
  const canvas = chart.locator('.chart-canvas');
  const fit = await svg.evaluate((e) => e.getBoundingClientRect().width);
  const room = await canvas.evaluate((e) => e.clientWidth);
  assert.ok(fit <= 1280, `the chart fits the window (${fit}px)`);
  await screenshot(page, 'chart-desktop');

  // zoom: buttons and ctrl+wheel change the scale; Fit returns to it
  const scale = async () => Number(await svg.getAttribute('data-scale'));
  const s0 = await scale();
  await chart.getByTestId('chart-zoom-in').click();
  assert.ok(await scale() > s0);
  await chart.getByTestId('chart-zoom-out').click();
  await chart.getByTestId('chart-zoom-out').click();
  assert.ok(await scale() < s0);
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 40);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -200);
  await page.keyboard.up('Control');
  assert.ok(await scale() > s0 / 1.6);
  await chart.getByTestId('chart-zoom-in').click();
  await chart.getByTestId('chart-zoom-in').click();
  await chart.getByTestId('chart-zoom-in').click();
  // pan: dragging the canvas scrolls it
  const before = await canvas.evaluate((e) => e.scrollLeft);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 200, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  assert.ok(await canvas.evaluate((e) => e.scrollLeft) > before, 'dragging pans the chart');
  await chart.getByTestId('chart-fit').click();
  assert.equal(await scale(), s0);
  assert.ok(room > 0);

  // a click on a node lists its tasks with links; Enter on a focused node does too
  await chart.locator('svg g.node[data-node=set_shipment_type]').click();
  const panel = chart.getByTestId('chart-node-tasks');
  await panel.waitFor({ timeout: WAIT });
  assert.equal((await panel.getByTestId('chart-node-title').textContent()).trim(), 'Choose the carrier');
  assert.equal(await panel.getByTestId('chart-node-task').count(), 1);
  const href = await panel.getByTestId('chart-node-task').locator('a').getAttribute('href');
  assert.match(href, /^#\/tasks\/\d+$/);
  await screenshot(page, 'chart-node-tasks');
  await chart.locator('svg g.node[data-node=finish]').focus();
  await page.keyboard.press('Enter');
  await panel.getByTestId('chart-node-empty').waitFor();
  await chart.locator('svg g.node[data-node=set_shipment_type]').focus();
  await page.keyboard.press('Enter');
  await panel.getByTestId('chart-node-task').locator('a').click();
  await page.getByTestId('task-page').waitFor();
  assert.match(page.url(), /#\/tasks\/\d+$/);
  await page.close();
});

test('phone: the chart stays readable and pans', async () => {
  const page = await newPage(browser, server.url, { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } });
  await login(page, 'clerk');
  const started = await apiCall(page, 'POST', '/api/flows/shipment/start/start', { data: SHIPMENT });
  await go(page, `#/processes/${started.body.process.id}`);
  await chartStatuses(page);
  const sizes = await textBoxes(page, '[data-testid=process-chart] svg text');
  for (const b of sizes) assert.ok(b.size >= 12, `"${b.text}" is ${b.size}px on a phone`);
  const canvas = page.getByTestId('process-chart').locator('.chart-canvas');
  const fits = await canvas.evaluate((e) => e.scrollWidth > e.clientWidth && e.getBoundingClientRect().right <= 390);
  assert.ok(fits, 'the chart scrolls inside its box, the page does not');
  await screenshot(page, 'chart-phone');
  await page.close();
});
