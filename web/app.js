// flowhost web UI — entry point. Wires the session, the top bar and the routes.
// Everything talks to the JSON API only (shared/design/http-api.md).

import * as api from './js/api.js';
import { flashError, flash, refreshTimes, h, pageHeader } from './js/dom.js';
import {
  route, start, setGuard, setAfterRender, setNotFound, navigate, currentRoute,
} from './js/router.js';
import {
  probe, user, onSessionChange, isAnyManager, logout, clearSession,
} from './js/session.js';
import { refreshCounts, hideCounts } from './js/counts.js';
import { forgetFlows } from './js/flows-cache.js';
import { loginView, safeNext } from './js/views/login.js';
import { taskListView } from './js/views/tasks.js';
import { startListView, startFormView } from './js/views/start.js';
import { taskView } from './js/views/task.js';
import { processView, processListView } from './js/views/process.js';
import { flowsView } from './js/views/flows.js';
import { adminView } from './js/views/admin.js';
import { usersView, userView, groupsView, permissionsView, scheduledView } from './js/views/admin-pages.js';

route('/login', loginView, { public: true });
route('/inbox', taskListView('inbox'));
route('/queue', taskListView('queue'));
route('/archive', taskListView('archive'));
route('/all', taskListView('all'));
route('/start', startListView);
route('/start/:flow/:node', startFormView);
route('/tasks/:id', taskView);
route('/processes', processListView);
route('/processes/:id', processView);
route('/flows', flowsView);
route('/admin', adminView);
route('/admin/users', usersView);
route('/admin/users/:name', userView);
route('/admin/groups', groupsView);
route('/admin/permissions', permissionsView);
route('/admin/scheduled', scheduledView);

setNotFound(async (ctx) => {
  document.title = 'Not found · flowhost';
  ctx.mount(pageHeader('Page not found'),
    h('section', { class: 'panel' },
      h('p', null, `There is no page at “${ctx.path}”.`),
      h('p', null, h('a', { class: 'btn', href: '#/inbox' }, 'Go to your inbox'))));
});

// ------------------------------------------------------------------ guard

function currentPathWithQuery() {
  const r = currentRoute();
  if (!r) return null;
  const q = r.query.toString();
  return r.path + (q ? `?${q}` : '');
}

setGuard((m, parsed) => {
  const isPublic = m && m.route.options.public;
  if (!user() && !isPublic) {
    const next = parsed.path + (parsed.query.toString() ? `?${parsed.query.toString()}` : '');
    return { path: '/login', query: safeNext(next) && next !== '/inbox' ? { next } : null };
  }
  if (user() && parsed.path === '/login') {
    const next = safeNext(parsed.query.get('next')) || '/inbox';
    const i = next.indexOf('?');
    return { path: i >= 0 ? next.slice(0, i) : next, query: i >= 0 ? new URLSearchParams(next.slice(i + 1)) : null };
  }
  return null;
});

// ------------------------------------------------------------------ top bar

const nav = document.getElementById('mainnav');
const userMenu = document.getElementById('usermenu');

function updateChrome(u) {
  const signedIn = !!u;
  nav.hidden = !signedIn;
  userMenu.hidden = !signedIn;
  document.body.classList.toggle('signed-in', signedIn);
  document.getElementById('nav-admin-item').hidden = !(signedIn && isAnyManager());
  document.getElementById('nav-all-item').hidden = !(signedIn && isAnyManager());
  document.getElementById('user-name').textContent = signedIn ? u.username : '';
  document.getElementById('user-name').title = signedIn
    ? [u.is_admin ? 'Administrator' : null, (u.groups || []).length ? `Groups: ${u.groups.join(', ')}` : null].filter(Boolean).join(' · ')
    : '';
  document.getElementById('user-avatar').textContent = signedIn ? String(u.username || '?').slice(0, 1).toUpperCase() : '';
  if (signedIn) refreshCounts(); else hideCounts();
}
onSessionChange(updateChrome);

setAfterRender((ctx) => {
  const section = ctx.path.split('/')[1] || '';
  for (const a of nav.querySelectorAll('a[data-nav]')) {
    const on = a.dataset.nav === section;
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (user() && !ctx.isRefresh) refreshCounts();
});

document.getElementById('logout').addEventListener('click', async (ev) => {
  const btn = ev.currentTarget;
  btn.disabled = true;
  try {
    await logout();
    forgetFlows();
    flash('You are signed out.', 'info', { keep: true });
  } catch (e) {
    flashError(api.describeError(e, 'sign out'), { keep: true });
  } finally {
    btn.disabled = false;
    navigate('/login');
  }
});

// The skip link: an in-page anchor must not disturb hash routing.
document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  const main = document.getElementById('main');
  const target = main.querySelector('h1') || main;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
});

// Any 401 from the API: the session is gone; go to the login page and come back after.
let redirecting = false;
api.onUnauthorized(() => {
  const wasSignedIn = !!user();
  clearSession();
  forgetFlows();
  const r = currentRoute();
  if (r && r.path === '/login') return;
  if (redirecting) return;
  redirecting = true;
  setTimeout(() => { redirecting = false; }, 0);
  if (wasSignedIn) flash('Your session has ended. Please sign in again.', 'info', { keep: true });
  const next = currentPathWithQuery();
  navigate('/login', safeNext(next) && next !== '/inbox' ? { next } : null, { replace: true });
});

// ------------------------------------------------------------------ timers

setInterval(() => refreshTimes(), 30_000);
setInterval(() => {
  if (user() && document.visibilityState === 'visible') refreshCounts();
}, 60_000);
document.addEventListener('visibilitychange', () => {
  if (user() && document.visibilityState === 'visible') refreshCounts();
});

// ------------------------------------------------------------------ boot

(async function boot() {
  try {
    await probe();
  } catch (e) {
    flashError(api.describeError(e, 'check your session'));
  }
  updateChrome(user());
  start(document.getElementById('main'));
}());
