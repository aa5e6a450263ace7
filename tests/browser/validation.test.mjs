// Scenario 2: validation errors are shown in the form beside their field, and no
// process is started. Three layers: the page's own checks (required field left
// empty), the browser's (maxlength), the server's field validation (a message
// over 150 characters; an e-mail address the server refuses).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  tempDir, addUsers, startServer, launchBrowser, newPage, login, checkPage, expectText,
  go, screenshot, apiCall, teardown,
} from './lib.mjs';

let dir; let server; let browser; let page;
const posts = [];

before(async () => {
  dir = tempDir('validation');
  const db = join(dir, 'flowhost.db');
  addUsers(db, { carol: { grants: ['helloworld.start', 'shipment.start'] } });
  server = await startServer({ db });
  browser = await launchBrowser();
  page = await newPage(browser, server.url);
  page.on('request', (r) => { if (r.method() === 'POST' && /\/start\//.test(r.url())) posts.push(r.url()); });
  await login(page, 'carol');
});

after(() => teardown({ browser, server, dirs: [dir] }));

async function processCount() {
  const res = await apiCall(page, 'GET', '/api/processes');
  assert.equal(res.status, 200);
  return res.body.items.length;
}

/** The error paragraph beside a field: inside the same .field row as the input. */
function fieldError(form, name) {
  return form.locator(`.field[data-field="${name}"]`).getByTestId(`error-${name}`);
}

test('a required field left empty: error beside it, nothing sent', async () => {
  await go(page, '#/start/helloworld/start');
  const form = page.getByTestId('start-form');
  await form.waitFor();
  const before = posts.length;
  await form.getByTestId('start-submit').click();

  const err = fieldError(form, 'text');
  await err.waitFor({ state: 'visible' });
  await expectText(err, 'This field is required.');
  const input = form.getByTestId('field-text');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.ok((await input.getAttribute('aria-describedby')).split(' ').includes(await err.getAttribute('id')),
    'the message is tied to the input for screen readers');
  assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the focus goes to the field');
  await expectText(form.getByTestId('form-error'), /correct the fields/);
  await screenshot(page, 'validation-required');

  assert.equal(posts.length, before, 'the page sent nothing');
  assert.equal(await processCount(), 0);
  assert.match(page.url(), /#\/start\/helloworld\/start$/);
  checkPage(page);
});

test('a message over 150 characters: the browser stops at 150, the server refuses 151 beside the field', async () => {
  await go(page, '#/start/helloworld/start');
  const form = page.getByTestId('start-form');
  await form.waitFor();
  const input = form.getByTestId('field-text');
  await input.click();
  await page.keyboard.type('x'.repeat(160));
  assert.equal((await input.inputValue()).length, 150, 'maxlength keeps typed input to 150 characters');

  // A client that does not stop at 150 (an old page, a script): the server's message
  // must still land beside the field. Send 151 characters by rewriting the request.
  const long = 'y'.repeat(151);
  let sentLength = null;
  await page.route('**/api/flows/helloworld/start/start', async (route) => {
    const body = JSON.parse(route.request().postData());
    sentLength = body.data.text.length;
    body.data.text = long;
    await route.continue({ postData: JSON.stringify(body) });
  }, { times: 1 });
  const response = page.waitForResponse('**/api/flows/helloworld/start/start');
  await form.getByTestId('start-submit').click();
  const res = await response;
  assert.equal(sentLength, 150, 'the page sent what the field held');
  assert.equal(res.status(), 400);
  const payload = await res.json();
  assert.equal(payload.error.code, 'invalid');
  assert.ok(payload.error.fields && payload.error.fields.text, 'the server names the field');

  const err = fieldError(form, 'text');
  await err.waitFor({ state: 'visible' });
  await expectText(err, /at most 150 characters \(it has 151\)/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await expectText(page.getByTestId('flash-message').last(), /Could not start the process: some fields need attention/);
  await screenshot(page, 'validation-too-long');
  assert.equal(await processCount(), 0, 'no process was started');
  assert.equal(await page.getByTestId('process-page').count(), 0, 'the page stays on the form');

  // Corrected, it goes through (and the old error is gone).
  await input.fill('Short and fine');
  await form.getByTestId('start-submit').click();
  await page.getByTestId('process-page').waitFor();
  assert.equal(await processCount(), 1);
  checkPage(page);
});

test('shipment: the server refuses an e-mail address; the other fields keep their input', async () => {
  const startedBefore = await processCount();
  await page.getByTestId('nav-start').click();
  await page.getByTestId('start-shipment-start').click();
  const form = page.getByTestId('start-form');
  await form.waitFor();
  assert.equal(await form.getAttribute('data-flow'), 'shipment');
  await form.getByTestId('field-customer_name').fill('Ada Lovelace');
  await form.getByTestId('field-customer_email').fill('ada@localhost'); // no dotted domain: refused by the flow
  await form.getByTestId('field-address').fill('12 Analytical Row\nLondon');
  await form.getByTestId('field-weight').fill('-2');
  await form.getByTestId('start-submit').click();

  // the page's own range check first
  await expectText(fieldError(form, 'weight'), 'Must be at least 0.');
  assert.equal(await fieldError(form, 'customer_email').isVisible(), false);

  await form.getByTestId('field-weight').fill('2.5');
  const response = page.waitForResponse((r) => r.url().endsWith('/api/flows/shipment/start/start'));
  await form.getByTestId('start-submit').click();
  assert.equal((await response).status(), 400);
  await expectText(fieldError(form, 'customer_email'), 'Enter a valid email address.');
  assert.equal(await fieldError(form, 'weight').isVisible(), false, 'the fixed field shows no error any more');
  assert.equal(await form.getByTestId('field-customer_name').inputValue(), 'Ada Lovelace');
  assert.equal(await form.getByTestId('field-address').inputValue(), '12 Analytical Row\nLondon');
  assert.equal(await form.getByTestId('field-customer_email').evaluate((el) => el === document.activeElement), true);
  await screenshot(page, 'validation-email');
  assert.equal(await processCount(), startedBefore, 'no process was started');
  checkPage(page);
});
