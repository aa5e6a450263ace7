// docs/openapi.json against everything it describes:
//  1. it is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator) and every
//     $ref in it resolves;
//  2. the set of (method, path) in it == the route index of docs/http-api.md == the route
//     tables of host/http_route.c and host/http_admin.c (plus the `/* route: METHOD /path */`
//     markers of routes served outside them); a failure names each route and where it is missing;
//  3. a running host serves it at /api/openapi.json (the same document, ETag, 304), and
//     real answers (2xx and errors) match the schemas the document gives their status.
//
// Run: node tests/openapi/openapi.test.mjs (ctest: openapi_spec). Needs `npm ci` here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = process.env.FLOWHOST_SOURCE || resolve(here, '..', '..');
const BIN = process.env.FLOWHOST_BIN || join(SOURCE, 'build', 'flowhost');
const SPEC_FILE = join(SOURCE, 'docs', 'openapi.json');
const doc = JSON.parse(readFileSync(SPEC_FILE, 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// --- 1. the document itself -------------------------------------------------------------

function pointer(root, ref) {
  assert.ok(ref.startsWith('#/'), `only local $refs are used: ${ref}`);
  return ref.slice(2).split('/').reduce((node, key) => (node == null ? undefined : node[key.replace(/~1/g, '/').replace(/~0/g, '~')]), root);
}

function* refsIn(node, path = '#') {
  if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* refsIn(v, `${path}/${i}`);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') yield [path, v];
      else yield* refsIn(v, `${path}/${k}`);
    }
  }
}

test('docs/openapi.json is a valid OpenAPI 3.1 document', async () => {
  assert.equal(doc.openapi.slice(0, 4), '3.1.');
  const result = await new Validator().validate(doc);
  assert.ok(result.valid, `not valid OpenAPI 3.1:\n${JSON.stringify(result.errors, null, 2)}`);
  const broken = [...refsIn(doc)].filter(([, ref]) => pointer(doc, ref) === undefined);
  assert.deepEqual(broken, [], `$refs that point nowhere: ${broken.map(([at, ref]) => `${at} -> ${ref}`).join(', ')}`);
});

// --- 2. the three route sets ---------------------------------------------------------------

// "{id}", "{flow}", "{event}" ... are all one placeholder: names differ between sources.
const norm = (method, path) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`;

function specRoutes() {
  const out = new Map();
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m]) out.set(norm(m, path), `${m.toUpperCase()} ${path}`);
  return out;
}

// The route index of docs/http-api.md: table rows "| `GET` | `/api/flows` | ... |".
function docRoutes() {
  const text = readFileSync(join(SOURCE, 'docs', 'http-api.md'), 'utf8');
  const out = new Map();
  for (const m of text.matchAll(/^\|\s*`(GET|POST|PUT|PATCH|DELETE)`\s*\|\s*`([^`]+)`\s*\|/gm))
    out.set(norm(m[1], m[2]), `${m[1]} ${m[2]}`);
  assert.ok(out.size > 0, 'docs/http-api.md has no route index (rows like "| `GET` | `/api/flows` | ... |")');
  return out;
}

// The parameter names docs/http-api.md uses for the `*` segments of host/http_admin.c,
// by the literal segment before them (`#` is always {id}); only for the message.
const ADMIN_PARAM = { users: 'name', groups: 'name', members: 'user', grants: 'permission' };

// ROUTES[] of host/http_admin.c (its own table under /api/: `*` a name, `#` an id).
function adminRoutes() {
  const src = readFileSync(join(SOURCE, 'host', 'http_admin.c'), 'utf8');
  const table = src.match(/static const aroute ROUTES\[\] = \{([\s\S]*?)\n\};/);
  assert.ok(table, 'host/http_admin.c: ROUTES[] not found');
  const out = new Map();
  for (const m of table[1].matchAll(/\{\s*"([A-Z]+)",\s*"([^"]*)",\s*\w+\s*\}/g)) {
    const segs = m[2].split('/');
    const path = segs.map((s, i) => (s === '#' ? '{id}' : s === '*' ? `{${ADMIN_PARAM[segs[i - 1]] || 'name'}}` : s)).join('/');
    out.set(norm(m[1], `/api/${path}`), `${m[1]} /api/${path}`);
  }
  assert.ok(out.size > 0, 'host/http_admin.c: ROUTES[] has no routes');
  return out;
}

// ROUTES[] of host/http_route.c ({action} expands to TASK_ACTIONS), and the routes other
// files serve outside it, each marked by a comment "/* route: GET /metrics */".
function tableRoutes() {
  const src = readFileSync(join(SOURCE, 'host', 'http_route.c'), 'utf8');
  const table = src.match(/static const route ROUTES\[\] = \{([\s\S]*?)\n\};/);
  assert.ok(table, 'host/http_route.c: ROUTES[] not found');
  const actions = src.match(/TASK_ACTIONS\[\] = \{([^}]*)\}/);
  assert.ok(actions, 'host/http_route.c: TASK_ACTIONS[] not found');
  const actionNames = [...actions[1].matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
  const out = new Map();
  for (const m of table[1].matchAll(/\{\s*"([A-Z]+)",\s*"([^"]*)",\s*\w+\s*\}/g)) {
    const paths = m[2].includes('{action}') ? actionNames.map((a) => m[2].replace('{action}', a)) : [m[2]];
    for (const p of paths) out.set(norm(m[1], `/api/${p}`), `${m[1]} /api/${p}`);
  }
  for (const [key, shown] of adminRoutes()) out.set(key, shown);
  for (const file of readdirSync(join(SOURCE, 'host')).filter((f) => f.endsWith('.c'))) {
    const text = readFileSync(join(SOURCE, 'host', file), 'utf8');
    for (const m of text.matchAll(/\/\* route: (GET|POST|PUT|PATCH|DELETE) (\/\S*) \*\//g))
      out.set(norm(m[1], m[2]), `${m[1]} ${m[2]}`);
  }
  return out;
}

test('the spec, docs/http-api.md and the route tables list the same routes', () => {
  const sources = {
    'docs/openapi.json (paths)': specRoutes(),
    'docs/http-api.md (route index)': docRoutes(),
    'host/http_route.c + http_admin.c (ROUTES[] and /* route: */ markers)': tableRoutes(),
  };
  const all = new Map();
  for (const routes of Object.values(sources)) for (const [k, shown] of routes) if (!all.has(k)) all.set(k, shown);
  const problems = [];
  for (const [key, shown] of [...all].sort()) {
    const has = Object.entries(sources).filter(([, r]) => r.has(key)).map(([n]) => n);
    const lacks = Object.keys(sources).filter((n) => !sources[n].has(key));
    if (lacks.length) problems.push(`${shown}: in ${has.join(' and ')}; MISSING in ${lacks.join(' and ')}`);
  }
  assert.equal(problems.length, 0, `routes that do not agree:\n  ${problems.join('\n  ')}`);
});

// --- 3. a running host ---------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'flowhost-openapi-'));
const db = join(dir, 'flowhost.db');
const flows = join(dir, 'flows');   // helloworld alone: every CLI call and the server load it fast
mkdirSync(flows);
copyFileSync(join(SOURCE, 'flows', 'helloworld.lua'), join(flows, 'helloworld.lua'));
const cli = (...args) => execFileSync(BIN, [...args, '--db', db, '--flows', flows],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
let server, serverLog = '';

async function startServer() {
  cli('user', 'add', 'admin', '--password', 'admin-pw', '--admin');
  cli('user', 'add', 'alice', '--password', 'alice-pw');
  cli('user', 'grant', 'alice', 'helloworld.start');
  cli('user', 'grant', 'alice', 'helloworld.approve');
  const tokens = { admin: cli('token', 'create', 'admin'), alice: cli('token', 'create', 'alice') };
  server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--db', db, '--flows', flows,
    '--web', join(SOURCE, 'web'), '--jobs', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (d) => { serverLog += d; });
  const port = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`flowhost serve did not start:\n${out}${serverLog}`)), 30_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    server.on('exit', (code) => { clearTimeout(timer); fail(new Error(`flowhost serve exited (${code}):\n${serverLog}`)); });
  });
  return { base: `http://127.0.0.1:${port}`, tokens };
}

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server.on('exit', ok));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

// Schemas are checked with Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect) on the document
// itself, so $refs resolve as they do for any client.
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(doc, 'flowhost-openapi');
const deref = (node) => (node && node.$ref ? deref(pointer(doc, node.$ref)) : node);

// The schema the spec gives this operation's answer with this status; fails when the
// status is not documented for the operation.
function answerSchema(method, path, status, type) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is not in the spec`);
  const response = deref(op.responses[String(status)]);
  assert.ok(response, `${method} ${path} answered ${status}, which the spec does not list for it`);
  return { response, schema: response.content?.[type]?.schema };
}

let context;
async function call(method, specPath, url, { token, body, status, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(context.base + url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (status !== undefined) assert.equal(res.status, status, `${method} ${url}: ${text}`);
  const type = (res.headers.get('content-type') || '').split(';')[0];
  const { schema } = answerSchema(method, specPath, res.status, type);
  let json;
  if (type === 'application/json') {
    json = JSON.parse(text);
    assert.ok(schema, `${method} ${specPath} ${res.status}: the spec gives no JSON schema`);
    const validate = ajv.getSchema(`flowhost-openapi${schema.$ref || ''}`) || ajv.compile(schema);
    assert.ok(validate(json), `${method} ${url} -> ${res.status} does not match its schema:\n` +
      `${JSON.stringify(validate.errors, null, 2)}\n${text.slice(0, 2000)}`);
  }
  return { res, json, text };
}

test('a running host serves the document and answers as it says', async () => {
  context = await startServer();
  const { admin, alice } = context.tokens;

  // the document itself: the same JSON as the file, revalidated by ETag
  const { res, json } = await call('GET', '/api/openapi.json', '/api/openapi.json', { status: 200 });
  assert.deepEqual(json, doc);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const etag = res.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  await call('GET', '/api/openapi.json', '/api/openapi.json', { status: 304, headers: { 'If-None-Match': etag } });
  await call('GET', '/api/openapi.json', '/api/openapi.json?x=1', { status: 400 });

  // operations and sessions
  await call('GET', '/api/health', '/api/health', { status: 200 });
  await call('GET', '/api/session', '/api/session', { token: alice, status: 200 });
  await call('GET', '/api/session', '/api/session', { status: 401 });
  await call('POST', '/api/session', '/api/session', { body: { username: 'alice', password: 'alice-pw' }, status: 200 });
  await call('POST', '/api/session', '/api/session', { body: { username: 'alice' , extra: 1 }, status: 400 });
  await call('GET', '/metrics', '/metrics', { status: 401 });
  await call('GET', '/metrics', '/metrics', { token: alice, status: 403 });
  await call('GET', '/metrics', '/metrics', { token: admin, status: 200 });

  // flows
  await call('GET', '/api/flows', '/api/flows', { token: alice, status: 200 });
  await call('GET', '/api/flows/{flow}', '/api/flows/helloworld', { token: alice, status: 200 });
  await call('GET', '/api/flows/{flow}', '/api/flows/nosuchflow', { token: alice, status: 404 });
  await call('GET', '/api/flows/{flow}/graph.svg', '/api/flows/helloworld/graph.svg', { token: alice, status: 200 });

  // a process through its tasks
  const start = '/api/flows/{flow}/start/{node}';
  const started = (await call('POST', start, '/api/flows/helloworld/start/start', { token: alice, body: { data: { text: 'hi' } }, status: 201 })).json;
  await call('POST', start, '/api/flows/helloworld/start/start', { token: alice, body: { data: {} }, status: 400 });
  await call('POST', start, '/api/flows/helloworld/start/start', { token: alice, body: { nope: 1 }, status: 400 });
  await call('POST', start, '/api/flows/helloworld/start/start', { status: 401 });
  const pid = started.process.id;
  const approve = started.tasks.find((t) => t.node === 'approve').id;
  await call('GET', '/api/processes', '/api/processes?limit=5', { token: alice, status: 200 });
  await call('GET', '/api/processes', '/api/processes?limit=0', { token: alice, status: 400 });
  await call('GET', '/api/processes/{id}', `/api/processes/${pid}`, { token: alice, status: 200 });
  await call('GET', '/api/processes/{id}', '/api/processes/999999', { token: alice, status: 404 });
  await call('GET', '/api/tasks', '/api/tasks?view=queue', { token: alice, status: 200 });
  await call('GET', '/api/tasks', '/api/tasks?view=nope', { token: alice, status: 400 });
  await call('GET', '/api/tasks/counts', '/api/tasks/counts', { token: alice, status: 200 });
  await call('GET', '/api/tasks/{id}', `/api/tasks/${approve}`, { token: alice, status: 200 });
  await call('POST', '/api/tasks/{id}/execute', `/api/tasks/${approve}/execute`, { token: alice, body: { data: { approved: true } }, status: 409 });
  await call('POST', '/api/tasks/{id}/assign', `/api/tasks/${approve}/assign`, { token: alice, status: 200 });
  await call('POST', '/api/tasks/{id}/reassign', `/api/tasks/${approve}/reassign`, { token: alice, body: { user: 'admin' }, status: 403 });
  await call('POST', '/api/tasks/{id}/execute', `/api/tasks/${approve}/execute`, { token: alice, body: { data: { approved: 'yes' } }, status: 400 });
  await call('POST', '/api/tasks/{id}/execute', `/api/tasks/${approve}/execute`, { token: alice, body: { data: { approved: false } }, status: 200 });

  const second = (await call('POST', start, '/api/flows/helloworld/start/start', { token: alice, body: { data: { text: 'two' } }, status: 201 })).json;
  await call('POST', '/api/processes/{id}/cancel', `/api/processes/${second.process.id}/cancel`, { token: alice, status: 403 });
  await call('POST', '/api/processes/{id}/cancel', `/api/processes/${second.process.id}/cancel`, { token: admin, status: 200 });
  await call('POST', '/api/processes/{id}/cancel', `/api/processes/${second.process.id}/cancel`, { token: admin, status: 409 });

  // messages and signals
  await call('POST', '/api/messages/{name}', '/api/messages/payment', { token: admin, body: { key: 'k1' }, status: 200 });
  await call('POST', '/api/messages/{name}', '/api/messages/payment', { token: admin, body: { key: true }, status: 400 });
  await call('POST', '/api/messages/{name}', '/api/messages/payment', { token: alice, body: { key: 'k1' }, status: 403 });
  await call('POST', '/api/signals/{name}', '/api/signals/bell', { token: admin, body: {}, status: 200 });
  await call('POST', '/api/signals/{name}', '/api/signals/bell', { token: admin, body: { key: 'x' }, status: 400 });
});

test('the host stops cleanly (exit 0, no sanitizer report)', async () => {
  assert.ok(server, 'no server was started');
  const exited = new Promise((ok) => server.on('exit', (code) => ok(code)));
  server.kill('SIGTERM');
  assert.equal(await exited, 0, serverLog.slice(-4000));
  for (const bad of ['AddressSanitizer', 'LeakSanitizer', 'ThreadSanitizer', 'runtime error:'])
    assert.ok(!serverLog.includes(bad), `sanitizer report:\n${serverLog.slice(-6000)}`);
});
