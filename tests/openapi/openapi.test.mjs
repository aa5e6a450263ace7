// docs/openapi.json against everything it describes:
//  1. it is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator) and every
//     $ref in it resolves;
//  2. the set of (method, path) in it == the route index of docs/http-api.md == the route
//     tables of host/http_route.c and host/http_admin.c (plus the `/* route: METHOD /path */`
//     markers of routes served outside them); a failure names each route and where it is missing;
//  3. a running host serves it at /api/openapi.json (the same document, ETag, 304), and
//     real answers (2xx and errors, the administration routes among them) match the schemas
//     the document gives their status, and name no key those schemas leave out.
//
// Run: node tests/openapi/openapi.test.mjs (ctest: openapi_spec). Needs `npm ci` here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
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
const flows = join(dir, 'flows');   // helloworld and a small probe: every CLI call and the server load them fast
mkdirSync(flows);
copyFileSync(join(SOURCE, 'flows', 'helloworld.lua'), join(flows, 'helloworld.lua'));
// probe: an External task to fail into an incident, and a step that raises (422 by role).
writeFileSync(join(flows, 'probe.lua'), `local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "OpenAPI probe",
  fields = { go = field.Boolean { label = "Go" } },
  start = flow.Start { fields = { "go" } }:Permission("probe.start"):Next(this.act),
  act = flow.View { title = "Act", fields = { "go" } }:Permission("probe.act"):Next(this.boom),
  boom = flow.Handler(this.explode):Next(this.finish),
  start_ext = flow.StartFunction():Next(this.render),
  render = flow.External { topic = "probe", title = "Render" }:Next(this.finish),
  finish = flow.End(),
  explode = function(self, activation) error("probe exploded") end,
}
`);
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

// Keys of an answer that its schema does not name. Most schemas leave additionalProperties
// open for clients' sake, so Ajv alone would pass a field the document forgot.
function undocumented(value, schema, at = '$', out = []) {
  schema = deref(schema);
  if (!schema || value === null || typeof value !== 'object') return out;
  const branches = [schema, ...(schema.oneOf || schema.anyOf || []).map(deref)].filter(Boolean);
  if (Array.isArray(value)) {
    const items = branches.map((b) => b.items).find(Boolean);
    if (items) value.forEach((v, i) => undocumented(v, items, `${at}[${i}]`, out));
    return out;
  }
  const named = branches.filter((b) => b.properties);
  if (!named.length) return out;   // free-form: process data, field schemas
  const open = named.some((b) => b.additionalProperties && typeof b.additionalProperties === 'object');
  for (const [k, v] of Object.entries(value)) {
    const b = named.find((n) => k in n.properties);
    if (b) undocumented(v, b.properties[k], `${at}.${k}`, out);
    else if (!open) out.push(`${at}.${k}`);
  }
  return out;
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
    const extra = undocumented(json, schema);
    assert.deepEqual(extra, [], `${method} ${url} -> ${res.status} has keys its schema does not name:\n${text.slice(0, 2000)}`);
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
  // signed out: 200 with user null (no console error in the UI); a bad token is still 401
  await call('GET', '/api/session', '/api/session', { status: 200 });
  await call('GET', '/api/session', '/api/session', { token: 'not-a-token', status: 401 });
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

// host/http_admin.c: real answers of the administration routes and of the fields the other
// answers gained (versions, external tasks, Lua errors by role).
test('administration answers and the newer fields match the document', async () => {
  assert.ok(context, 'the host did not start');
  const { admin, alice } = context.tokens;
  const userPath = '/api/users/{name}';

  // users
  const users = (await call('GET', '/api/users', '/api/users', { token: admin, status: 200 })).json;
  assert.deepEqual(users.items.map((u) => u.username), ['admin', 'alice']);
  await call('GET', '/api/users', '/api/users', { token: alice, status: 403 });
  await call('GET', '/api/users', '/api/users', { status: 401 });
  const made = (await call('POST', '/api/users', '/api/users', { token: admin, body: { username: 'j doe' }, status: 201 })).json;
  assert.equal(made.password.length, 16);
  await call('POST', '/api/users', '/api/users', { token: admin, body: { username: 'j doe' }, status: 409 });
  await call('POST', '/api/users', '/api/users', { token: admin, body: { username: 'bob', is_admin: 'yes' }, status: 400 });
  await call('POST', '/api/users', '/api/users', { token: alice, body: { username: 'bob' }, status: 403 });
  const got = (await call('GET', userPath, '/api/users/j%20doe', { token: admin, status: 200 })).json;
  assert.equal(got.user.username, 'j doe');
  await call('GET', userPath, '/api/users/nobody', { token: admin, status: 404 });
  const changed = (await call('PATCH', userPath, '/api/users/j%20doe', { token: admin, body: { active: false }, status: 200 })).json;
  assert.equal(changed.user.active, false);
  assert.deepEqual(changed.ended, { sessions: 0, tokens: 0 });
  const reset = (await call('PATCH', userPath, '/api/users/j%20doe', { token: admin, body: { reset_password: true }, status: 200 })).json;
  assert.equal(reset.password.length, 16);
  await call('PATCH', userPath, '/api/users/j%20doe', { token: admin, body: {}, status: 400 });
  await call('PATCH', userPath, '/api/users/admin', { token: admin, body: { is_admin: false }, status: 409 });
  await call('PATCH', userPath, '/api/users/alice', { token: alice, body: { active: false }, status: 403 });
  const tokens = (await call('GET', '/api/users/{name}/tokens', '/api/users/alice/tokens', { token: admin, status: 200 })).json;
  assert.equal(tokens.items.length, 1);
  await call('DELETE', '/api/users/{name}/tokens/{id}', '/api/users/admin/tokens/999999', { token: admin, status: 404 });
  const granted = (await call('POST', '/api/users/{name}/grants', '/api/users/alice/grants',
    { token: admin, body: { permission: 'probe.start' }, status: 200 })).json;
  assert.ok(granted.user.grants.includes('probe.start'));
  await call('POST', '/api/users/{name}/grants', '/api/users/alice/grants', { token: admin, body: { permission: 'no.such' }, status: 400 });
  await call('DELETE', '/api/users/{name}/grants/{permission}', '/api/users/alice/grants/probe.nothing', { token: admin, status: 404 });

  // groups, permissions, scheduled work
  await call('POST', '/api/groups', '/api/groups', { token: admin, body: { name: 'probers' }, status: 201 });
  await call('POST', '/api/groups/{name}/members', '/api/groups/probers/members', { token: admin, body: { user: 'alice' }, status: 200 });
  const group = (await call('POST', '/api/groups/{name}/grants', '/api/groups/probers/grants',
    { token: admin, body: { permission: 'probe.act' }, status: 200 })).json;
  assert.deepEqual(group.group, { name: 'probers', members: ['alice'], grants: ['probe.act'] });
  const groups = (await call('GET', '/api/groups', '/api/groups', { token: admin, status: 200 })).json;
  assert.deepEqual(groups.items.map((g) => g.name), ['probers']);
  await call('GET', '/api/groups', '/api/groups', { token: alice, status: 403 });
  await call('GET', '/api/groups/{name}', '/api/groups/nogroup', { token: admin, status: 404 });
  const perms = (await call('GET', '/api/permissions', '/api/permissions', { token: admin, status: 200 })).json;
  const probe = perms.items.find((f) => f.flow === 'probe');
  assert.deepEqual(probe.permissions.map((p) => p.kind).sort(), ['external', 'manage', 'start', 'task']);
  await call('GET', '/api/permissions', '/api/permissions', { token: alice, status: 403 });

  // an external task: its `external` object, the scheduled list, then failed into an incident
  const ext = (await call('POST', '/api/flows/{flow}/start/{node}', '/api/flows/probe/start/start_ext',
    { token: admin, body: { data: {} }, status: 201 })).json;
  const render = ext.tasks.find((t) => t.node === 'render').id;
  const idle = (await call('GET', '/api/tasks/{id}', `/api/tasks/${render}`, { token: admin, status: 200 })).json;
  assert.deepEqual(idle.task.external, { topic: 'probe', worker: null, lease_until: null, attempts: 0 });
  const scheduled = (await call('GET', '/api/admin/scheduled', '/api/admin/scheduled?limit=10', { token: admin, status: 200 })).json;
  assert.ok(scheduled.items.some((t) => t.id === render));
  await call('GET', '/api/admin/scheduled', '/api/admin/scheduled?limit=0', { token: admin, status: 400 });
  await call('POST', '/api/external/fetch', '/api/external/fetch', { token: admin, body: { worker: 'w1', topics: ['probe'] }, status: 200 });
  const leased = (await call('GET', '/api/tasks/{id}', `/api/tasks/${render}`, { token: admin, status: 200 })).json;
  assert.equal(leased.task.external.worker, 'w1');
  await call('POST', '/api/external/{id}/fail', `/api/external/${render}/fail`, { token: admin, body: { worker: 'w1', message: 'no printer' }, status: 200 });
  const incidents = (await call('GET', '/api/admin/incidents', '/api/admin/incidents?flow=probe', { token: admin, status: 200 })).json;
  assert.deepEqual(incidents.items.map((t) => [t.id, t.status, t.error.message]), [[render, 'ERROR', 'no printer']]);
  await call('GET', '/api/admin/incidents', '/api/admin/incidents', { token: alice, status: 403 });
  const proc = (await call('GET', '/api/processes/{id}', `/api/processes/${ext.process.id}`, { token: admin, status: 200 })).json;
  assert.match(proc.process.flow_version, /^[0-9a-f]+$/, 'a new process runs on a recorded version');

  // a step that raises: details for the admin, a plain message for alice
  const boom = async (token) => {
    const started = (await call('POST', '/api/flows/{flow}/start/{node}', '/api/flows/probe/start/start', { token, body: { data: { go: true } }, status: 201 })).json;
    const act = started.tasks.find((t) => t.node === 'act').id;
    await call('POST', '/api/tasks/{id}/assign', `/api/tasks/${act}/assign`, { token, status: 200 });
    return (await call('POST', '/api/tasks/{id}/execute', `/api/tasks/${act}/execute`, { token, body: { data: { go: true } }, status: 422 })).json.error;
  };
  const detailed = await boom(admin);
  assert.match(detailed.message, /probe exploded/);
  assert.equal(detailed.node, 'boom');
  assert.ok(detailed.traceback);
  const plain = await boom(alice);
  assert.doesNotMatch(plain.message, /probe exploded/);
  assert.equal(plain.traceback, undefined);

  // flows gained their versions
  const list = (await call('GET', '/api/flows', '/api/flows', { token: admin, status: 200 })).json;
  const probeFlow = list.items.find((f) => f.name === 'probe');
  assert.equal(probeFlow.version_mode, 'follow');
  assert.match(probeFlow.version, /^[0-9a-f]+$/);
});

test('the host stops cleanly (exit 0, no sanitizer report)', async () => {
  assert.ok(server, 'no server was started');
  const exited = new Promise((ok) => server.on('exit', (code) => ok(code)));
  server.kill('SIGTERM');
  assert.equal(await exited, 0, serverLog.slice(-4000));
  for (const bad of ['AddressSanitizer', 'LeakSanitizer', 'ThreadSanitizer', 'runtime error:'])
    assert.ok(!serverLog.includes(bad), `sanitizer report:\n${serverLog.slice(-6000)}`);
});
