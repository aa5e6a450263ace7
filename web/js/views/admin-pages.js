// Administration screens for admins (issue 14), over the admin API of docs/http-api.md:
// users (create, disable/enable, reset password, admin flag, groups, grants, tokens),
// groups (members, grants), permissions per flow (who holds each, grant to a user or
// group) and scheduled work (jobs and timers due, with attempts). The incidents page
// (tasks in ERROR) stays in admin.js, shared with managers; adminTabs() links them all.

import * as api from '../api.js';
import { h, timeEl, pageHeader, emptyState, flashError, flashSuccess, confirmDialog, setBusy } from '../dom.js';
import { refresh, seg } from '../router.js';
import { table } from '../list.js';
import { user as sessionUser } from '../session.js';

const TABS = [
  ['incidents', 'Incidents', '#/admin'],
  ['users', 'Users', '#/admin/users'],
  ['groups', 'Groups', '#/admin/groups'],
  ['permissions', 'Permissions', '#/admin/permissions'],
  ['scheduled', 'Scheduled work', '#/admin/scheduled'],
];

/** The admin sections' tab bar (admins only; null for managers). */
export function adminTabs(active) {
  const u = sessionUser();
  if (!u || !u.is_admin) return null;
  return h('nav', { class: 'admin-tabs', 'aria-label': 'Administration', testid: 'admin-tabs' },
    h('ul', null, TABS.map(([key, label, href]) => h('li', null,
      h('a', { href, testid: `admin-tab-${key}`, 'aria-current': key === active ? 'page' : null }, label)))));
}

const patch = (path, body) => api.request('PATCH', path, { body });

/** Runs an API call from a button; flashes the outcome; refreshes the page on success. */
async function act(button, doing, fn, done) {
  if (button) setBusy(button, true);
  try {
    const res = await fn();
    if (done) done(res);
    refresh();
    return res;
  } catch (e) {
    flashError(api.describeError(e, doing));
    return null;
  } finally {
    if (button && button.isConnected) setBusy(button, false);
  }
}

/** Loads what a page needs; on 403 mounts the "admins only" note and returns null. */
async function load(ctx, title, active, calls) {
  try {
    return await Promise.all(calls.map((c) => c()));
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 403) {
      ctx.mount(pageHeader(title), h('section', { class: 'panel', testid: 'admin-forbidden' },
        h('p', { class: 'empty-title' }, 'This page is for administrators.'),
        h('p', null, 'Ask an administrator if you need access.')));
      return null;
    }
    throw e;
  }
}

function chips(list, testid, remove) {
  if (!list || !list.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'chip-list', testid }, list.map((v) => h('li', { class: 'chip' }, v,
    remove ? h('button', {
      type: 'button', class: 'chip-remove', 'aria-label': `Remove ${v}`, title: `Remove ${v}`,
      testid: `${testid}-remove`, 'data-value': v, onClick: (ev) => remove(v, ev.currentTarget),
    }, '×') : null)));
}

/** A one-line form: labelled inputs and a submit button. */
function inlineForm({ testid, fields, submit, onSubmit }) {
  const button = h('button', { type: 'submit', class: 'btn btn-soft btn-small', testid: `${testid}-submit` }, submit);
  const form = h('form', { class: 'admin-form', testid, novalidate: true },
    fields.map(({ label, input }) => h('label', { class: 'admin-field' }, h('span', null, label), input)), button);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); onSubmit(button); });
  return form;
}

function permissionInput(id, perms, testid) {
  const list = h('datalist', { id }, perms.map((p) => h('option', { value: p })));
  const input = h('input', { type: 'text', list: id, required: true, testid, autocomplete: 'off', spellcheck: 'false' });
  return { input, list };
}

function allPermissions(known) {
  const out = [];
  for (const f of known.items || []) for (const p of f.permissions) out.push(p.name);
  return out;
}

function passwordNote(name, password) {
  return h('section', { class: 'panel notice', testid: 'new-password', role: 'status' },
    h('p', null, 'One-time password of ', h('strong', null, name), ' — shown only now; hand it over safely:'),
    h('p', null, h('code', { class: 'password', testid: 'new-password-value' }, password)));
}

// ---------------------------------------------------------------- users

let shownPassword = null;   // {name, password}: shown once after create/reset, then forgotten

export async function usersView(ctx) {
  document.title = 'Users · Admin · flowhost';
  const got = await load(ctx, 'Users', 'users', [() => api.get('/api/users')]);
  if (!got) return;
  const users = got[0].items || [];
  const name = h('input', { type: 'text', required: true, testid: 'new-user-name', autocomplete: 'off', autocapitalize: 'none' });
  const password = h('input', { type: 'password', testid: 'new-user-password', autocomplete: 'new-password', placeholder: 'generate one' });
  const admin = h('input', { type: 'checkbox', testid: 'new-user-admin' });
  const create = inlineForm({
    testid: 'new-user', submit: 'Create user',
    fields: [{ label: 'User name', input: name }, { label: 'Password', input: password }, { label: 'Admin', input: admin }],
    onSubmit: (button) => {
      const body = { username: name.value.trim(), is_admin: admin.checked };
      if (password.value) body.password = password.value;
      if (!body.username) { flashError('Enter a user name.'); name.focus(); return; }
      act(button, 'create the user', () => api.post('/api/users', body), (res) => {
        if (res.password) shownPassword = { name: res.user.username, password: res.password };
        flashSuccess(`Created user ${res.user.username}.`);
      });
    },
  });
  const note = shownPassword ? passwordNote(shownPassword.name, shownPassword.password) : null;
  shownPassword = null;
  ctx.mount(
    pageHeader('Users', { sub: 'Accounts, their groups and permissions. Select a user to change it.' }),
    adminTabs('users'),
    note,
    h('section', { class: 'panel' }, h('h2', { class: 'panel-title' }, 'New user'), create),
    table({
      testid: 'users-table', caption: 'Users',
      rowAttrs: (u) => ({ 'data-user': u.username, testid: 'user-row' }),
      columns: [
        { label: 'User', render: (u) => h('a', { href: `#/admin/users/${seg(u.username)}`, testid: 'user-link' }, u.username) },
        { label: 'Status', render: (u) => h('span', { class: `pill ${u.active ? 'pill-ok' : 'pill-off'}`, testid: 'user-active' }, u.active ? 'active' : 'disabled') },
        { label: 'Admin', render: (u) => (u.is_admin ? 'admin' : '') },
        { label: 'Groups', render: (u) => chips(u.groups, 'user-groups') },
        { label: 'Permissions', render: (u) => chips(u.permissions, 'user-perms') },
      ],
      rows: users,
    }));
}

function userActions(u) {
  const base = `/api/users/${seg(u.username)}`;
  const toggle = h('button', {
    type: 'button', class: u.active ? 'btn btn-danger-outline' : 'btn', testid: u.active ? 'user-disable' : 'user-enable',
    onClick: async (ev) => {
      const button = ev.currentTarget;
      if (u.active && !await confirmDialog({
        title: `Disable ${u.username}?`, confirmLabel: 'Disable',
        message: 'They are signed out at once, their API tokens end, and they cannot sign in until enabled again.',
      })) return;
      act(button, u.active ? 'disable the user' : 'enable the user', () => patch(base, { active: !u.active }),
        () => flashSuccess(u.active ? `Disabled ${u.username}.` : `Enabled ${u.username}.`));
    },
  }, u.active ? 'Disable' : 'Enable');
  const reset = h('button', {
    type: 'button', class: 'btn', testid: 'user-reset-password',
    onClick: async (ev) => {
      const button = ev.currentTarget;
      if (!await confirmDialog({
        title: `Reset the password of ${u.username}?`, confirmLabel: 'Reset password',
        message: 'A new one-time password is generated; their sessions and API tokens end.',
      })) return;
      act(button, 'reset the password', () => patch(base, { reset_password: true }), (res) => {
        shownPassword = { name: u.username, password: res.password };
      });
    },
  }, 'Reset password');
  const adminFlag = h('button', {
    type: 'button', class: 'btn', testid: 'user-admin-toggle',
    onClick: (ev) => act(ev.currentTarget, 'change the admin flag', () => patch(base, { is_admin: !u.is_admin })),
  }, u.is_admin ? 'Remove admin' : 'Make admin');
  return [toggle, reset, adminFlag];
}

export async function userView(ctx) {
  const name = ctx.params.name;
  document.title = `${name} · Users · flowhost`;
  const base = `/api/users/${seg(name)}`;
  const got = await load(ctx, name, 'users', [() => api.get(base), () => api.get(`${base}/tokens`),
    () => api.get('/api/groups'), () => api.get('/api/permissions')]);
  if (!got) return;
  const [{ user: u }, tokens, groups, known] = got;
  const note = shownPassword && shownPassword.name === name ? passwordNote(name, shownPassword.password) : null;
  shownPassword = null;

  const groupSelect = h('select', { testid: 'user-join-group', required: true },
    h('option', { value: '' }, 'Choose a group'),
    (groups.items || []).filter((g) => !u.groups.includes(g.name)).map((g) => h('option', { value: g.name }, g.name)));
  const join = inlineForm({
    testid: 'user-join', submit: 'Add to group', fields: [{ label: 'Group', input: groupSelect }],
    onSubmit: (button) => groupSelect.value && act(button, 'add to the group',
      () => api.post(`/api/groups/${seg(groupSelect.value)}/members`, { user: name })),
  });
  const perm = permissionInput('user-perm-list', allPermissions(known), 'user-grant-permission');
  const grant = inlineForm({
    testid: 'user-grant', submit: 'Grant', fields: [{ label: 'Permission', input: perm.input }],
    onSubmit: (button) => act(button, 'grant the permission', () => api.post(`${base}/grants`, { permission: perm.input.value.trim() })),
  });

  ctx.mount(
    pageHeader(name, {
      crumbs: [['Admin', '#/admin'], ['Users', '#/admin/users'], [name]],
      sub: `${u.active ? 'Active' : 'Disabled'}${u.is_admin ? ' · administrator' : ''} · since ${u.created_at.slice(0, 10)}`,
      actions: userActions(u),
    }),
    adminTabs('users'),
    note,
    h('section', { class: 'panel', testid: 'user-groups-panel' }, h('h2', { class: 'panel-title' }, 'Groups'),
      chips(u.groups, 'user-group-list', (g, b) => act(b, 'remove from the group',
        () => api.del(`/api/groups/${seg(g)}/members/${seg(name)}`))), join),
    h('section', { class: 'panel', testid: 'user-grants-panel' }, h('h2', { class: 'panel-title' }, 'Permissions granted to the user'),
      chips(u.grants, 'user-grants', (p, b) => act(b, 'revoke the permission', () => api.del(`${base}/grants/${seg(p)}`))),
      perm.list, grant,
      h('p', { class: 'field-help' }, 'Effective (with groups): ', u.permissions.length ? u.permissions.join(', ') : 'none')),
    h('section', { class: 'panel', testid: 'user-tokens-panel' }, h('h2', { class: 'panel-title' }, 'API tokens'),
      (tokens.items || []).length ? table({
        testid: 'tokens-table', caption: 'API tokens',
        rowAttrs: (t) => ({ testid: 'token-row', 'data-token-id': t.id }),
        columns: [
          { label: 'Id', render: (t) => `#${t.id}` },
          { label: 'Name', render: (t) => t.name || '—' },
          { label: 'Created', render: (t) => timeEl(t.created_at) },
          { label: 'Last used', render: (t) => (t.last_used_at ? timeEl(t.last_used_at) : 'never') },
          { label: '', render: (t) => h('button', {
            type: 'button', class: 'btn btn-danger-outline btn-small', testid: 'token-revoke',
            onClick: (ev) => act(ev.currentTarget, 'revoke the token', () => api.del(`${base}/tokens/${t.id}`),
              () => flashSuccess(`Revoked token #${t.id}.`)),
          }, 'Revoke') },
        ],
        rows: tokens.items,
      }) : emptyState('No API tokens.', 'Tokens are made with `flowhost token create USER`.')));
}

// ---------------------------------------------------------------- groups

export async function groupsView(ctx) {
  document.title = 'Groups · Admin · flowhost';
  const got = await load(ctx, 'Groups', 'groups', [() => api.get('/api/groups'), () => api.get('/api/permissions')]);
  if (!got) return;
  const [groups, known] = got;
  const perms = allPermissions(known);
  const name = h('input', { type: 'text', required: true, testid: 'new-group-name', autocomplete: 'off' });
  const create = inlineForm({
    testid: 'new-group', submit: 'Create group', fields: [{ label: 'Name', input: name }],
    onSubmit: (button) => act(button, 'create the group', () => api.post('/api/groups', { name: name.value.trim() })),
  });
  const cards = (groups.items || []).map((g, i) => {
    const base = `/api/groups/${seg(g.name)}`;
    const member = h('input', { type: 'text', required: true, testid: 'group-add-member-name', autocomplete: 'off' });
    const perm = permissionInput(`group-perm-list-${i}`, perms, 'group-grant-permission');
    return h('article', { class: 'card', testid: 'group-card', 'data-group': g.name },
      h('h2', { class: 'card-title' }, g.name),
      h('p', { class: 'card-meta' }, 'Members'),
      chips(g.members, 'group-members', (m, b) => act(b, 'remove the member', () => api.del(`${base}/members/${seg(m)}`))),
      inlineForm({ testid: 'group-add-member', submit: 'Add member', fields: [{ label: 'User', input: member }],
        onSubmit: (b) => act(b, 'add the member', () => api.post(`${base}/members`, { user: member.value.trim() })) }),
      h('p', { class: 'card-meta' }, 'Permissions'),
      chips(g.grants, 'group-grants', (p, b) => act(b, 'revoke the permission', () => api.del(`${base}/grants/${seg(p)}`))),
      perm.list,
      inlineForm({ testid: 'group-grant', submit: 'Grant', fields: [{ label: 'Permission', input: perm.input }],
        onSubmit: (b) => act(b, 'grant the permission', () => api.post(`${base}/grants`, { permission: perm.input.value.trim() })) }));
  });
  ctx.mount(
    pageHeader('Groups', { sub: 'Members and permissions of each group; a member holds the group\'s permissions.' }),
    adminTabs('groups'),
    h('section', { class: 'panel' }, h('h2', { class: 'panel-title' }, 'New group'), create),
    cards.length ? h('div', { class: 'card-grid', testid: 'groups-list' }, cards)
      : h('section', { class: 'panel' }, emptyState('No groups yet.', 'Create one above, then add members and grant it permissions.')));
}

// ---------------------------------------------------------------- permissions per flow

function holders(name, users, groups) {
  const who = [];
  for (const g of groups) if (g.grants.includes(name)) who.push(`@${g.name}`);
  for (const u of users) if (u.grants.includes(name)) who.push(u.username);
  return who;
}

export async function permissionsView(ctx) {
  document.title = 'Permissions · Admin · flowhost';
  const got = await load(ctx, 'Permissions', 'permissions',
    [() => api.get('/api/permissions'), () => api.get('/api/users'), () => api.get('/api/groups')]);
  if (!got) return;
  const [known, users, groups] = got;
  const subjects = [...(groups.items || []).map((g) => `@${g.name}`), ...(users.items || []).map((u) => u.username)];
  const sections = (known.items || []).map((f) => h('section', { class: 'panel', testid: 'flow-permissions', 'data-flow': f.flow },
    h('h2', { class: 'panel-title' }, f.title, ' ', h('span', { class: 'id-chip' }, f.flow)),
    table({
      caption: `Permissions of ${f.title}`,
      rowAttrs: (p) => ({ testid: 'permission-row', 'data-permission': p.name }),
      columns: [
        { label: 'Permission', render: (p) => h('code', null, p.name) },
        { label: 'Allows', render: (p) => (p.kind === 'manage' ? 'managing every process' : `${p.kind === 'start' ? 'starting at' : 'the task'} “${p.title}”`) },
        { label: 'Held by', render: (p) => chips(holders(p.name, users.items || [], groups.items || []), 'permission-holder') },
        { label: 'Grant to', render: (p) => {
          const select = h('select', { testid: 'permission-subject', 'aria-label': `Grant ${p.name} to` },
            h('option', { value: '' }, 'Choose…'), subjects.map((s) => h('option', { value: s }, s)));
          return inlineForm({ testid: 'permission-grant', submit: 'Grant', fields: [{ label: '', input: select }],
            onSubmit: (b) => {
              if (!select.value) return;
              const path = select.value.startsWith('@') ? `/api/groups/${seg(select.value.slice(1))}/grants` : `/api/users/${seg(select.value)}/grants`;
              act(b, 'grant the permission', () => api.post(path, { permission: p.name }));
            } });
        } },
      ],
      rows: f.permissions,
    })));
  ctx.mount(
    pageHeader('Permissions', { sub: 'What each flow asks for, who holds it (admins hold everything), and a quick grant.' }),
    adminTabs('permissions'),
    sections.length ? sections : h('section', { class: 'panel' }, emptyState('No flows loaded.')));
}

// ---------------------------------------------------------------- scheduled work

export async function scheduledView(ctx) {
  document.title = 'Scheduled work · Admin · flowhost';
  const got = await load(ctx, 'Scheduled work', 'scheduled', [() => api.get('/api/admin/scheduled')]);
  if (!got) return;
  const items = got[0].items || [];
  ctx.mount(
    pageHeader('Scheduled work', { sub: 'Jobs and timers waiting for their time, earliest first, with their attempts.',
      actions: [h('button', { type: 'button', class: 'btn', testid: 'scheduled-refresh', onClick: () => refresh() }, 'Refresh')] }),
    adminTabs('scheduled'),
    items.length ? table({
      testid: 'scheduled-table', caption: 'Scheduled work',
      rowAttrs: (t) => ({ testid: 'scheduled-row', 'data-task-id': t.id }),
      columns: [
        { label: 'Task', render: (t) => h('a', { href: `#/tasks/${seg(t.id)}` }, `${t.title} #${t.id}`) },
        { label: 'Flow', render: (t) => h('a', { href: `#/processes/${seg(t.process_id)}` }, `${t.flow_title} · process #${t.process_id}`) },
        { label: 'Kind', render: (t) => t.type },
        { label: 'Due', render: (t) => timeEl(t.due_at, 'scheduled-due') },
        { label: 'Attempts', render: (t) => h('span', { testid: 'scheduled-attempts' }, String(t.attempts || 0)) },
        { label: 'Last error', render: (t) => (t.last_error ? h('span', { class: 'error-text', testid: 'scheduled-error' }, t.last_error) : '—') },
      ],
      rows: items,
    }) : h('section', { class: 'panel' }, emptyState('Nothing is scheduled.', 'Jobs and timers appear here while they wait.')));
}

