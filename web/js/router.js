// Hash routing: "#/path/segments?query". A view is `async (ctx) => void` that builds
// its DOM and hands it to ctx.mount(); ctx.alive() tells whether the user has moved on
// since (a slow response must not overwrite the next page).

import { h, ageFlash, flashError } from './dom.js';
import { describeError } from './api.js';

const routes = [];
let mainEl = null;
let renderSeq = 0;
let lastHash = null;
let guard = null;
let afterRender = null;
let notFoundView = null;

export function route(pattern, view, options = {}) {
  routes.push({ parts: pattern.split('/').filter(Boolean), view, options });
}

export function setNotFound(view) { notFoundView = view; }
/** guard(match) → a hash to go to instead, or null to proceed. */
export function setGuard(fn) { guard = fn; }
export function setAfterRender(fn) { afterRender = fn; }

export function parseHash(hash = location.hash) {
  const s = String(hash || '').replace(/^#/, '');
  if (s === '' || s === '/') return { path: '/', query: new URLSearchParams() };
  if (!s.startsWith('/')) return null; // an in-page anchor such as the skip link
  const i = s.indexOf('?');
  return {
    path: i >= 0 ? s.slice(0, i) : s,
    query: new URLSearchParams(i >= 0 ? s.slice(i + 1) : ''),
  };
}

function decode(seg) {
  try { return decodeURIComponent(seg); } catch { return null; }
}

export function match(path) {
  const segs = path.split('/').filter(Boolean).map(decode);
  if (segs.includes(null)) return null;
  for (const r of routes) {
    if (r.parts.length !== segs.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < r.parts.length; i++) {
      const p = r.parts[i];
      if (p.startsWith(':')) params[p.slice(1)] = segs[i];
      else if (p !== segs[i]) { ok = false; break; }
    }
    if (ok) return { route: r, params };
  }
  return null;
}

/** '#/tasks/5' from ('/tasks/5'), query values that are empty are left out. */
export function href(path, query) {
  let s = `#${path}`;
  if (query) {
    const qs = new URLSearchParams();
    const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
    for (const [k, v] of entries) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const q = qs.toString();
    if (q) s += `?${q}`;
  }
  return s;
}

export function seg(s) { return encodeURIComponent(String(s)); }

export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (location.hash === target) { refresh(); return; }
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  render(false);
}

/** Re-render the current page in place (after an action). */
export function refresh() { return render(true); }

export function currentRoute() { return parseHash(); }

export function start(main) {
  mainEl = main;
  window.addEventListener('hashchange', () => render(false));
  window.addEventListener('popstate', () => {
    // pushState navigations fire popstate on back/forward; hashchange may fire too —
    // render() ignores a second call for the same hash.
    render(false);
  });
  // A link to the page already shown (the Inbox entry while on the inbox) fires no
  // hashchange: load the page again, as a click on a link is expected to.
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target instanceof Element ? ev.target.closest('a[href^="#/"]') : null;
    if (!a || a.target || a.getAttribute('href') !== location.hash) return;
    ev.preventDefault();
    render(false, true);
  });
  render(false);
}

async function render(isRefresh, reload = false) {
  const parsed = parseHash();
  if (!parsed) return; // in-page anchor: nothing to route
  const hash = location.hash || '#/';
  if (!isRefresh && !reload && hash === lastHash) return;
  const navigation = !isRefresh;
  lastHash = hash;

  if (parsed.path === '/') { navigate('/inbox', null, { replace: true }); return; }

  const m = match(parsed.path);
  if (guard) {
    const redirect = guard(m, parsed);
    if (redirect) { navigate(redirect.path, redirect.query, { replace: true }); return; }
  }

  const seq = ++renderSeq;
  if (navigation) ageFlash();

  // remember what had the focus, to put it back after a refresh
  const focusKey = isRefresh ? focusSignature(document.activeElement) : null;

  let mounted = false;
  const ctx = {
    params: m ? m.params : {},
    query: parsed.query,
    path: parsed.path,
    isRefresh,
    alive: () => seq === renderSeq,
    mount: (...nodes) => {
      if (seq !== renderSeq) return false;
      mainEl.replaceChildren(...nodes.flat().filter(Boolean));
      // which address the content shown belongs to: tests (and scripts) wait on it
      // instead of guessing when a navigation has rendered
      mainEl.dataset.route = hash;
      mounted = true;
      return true;
    },
  };

  let loadingTimer = null;
  if (!isRefresh) {
    loadingTimer = setTimeout(() => {
      if (seq === renderSeq && !mounted) {
        mainEl.setAttribute('aria-busy', 'true');
        mainEl.replaceChildren(h('div', { class: 'loading', testid: 'loading' },
          h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
      }
    }, 150);
  }

  const view = m ? m.route.view : notFoundView;
  try {
    await view(ctx);
  } catch (e) {
    if (seq === renderSeq) {
      flashError(describeError(e, 'load this page'));
      ctx.mount(h('section', { class: 'panel load-error', testid: 'load-error' },
        h('h1', { class: 'page-title', tabindex: '-1' }, 'This page could not be loaded'),
        h('p', null, describeError(e)),
        h('p', null, h('button', { type: 'button', class: 'btn', onClick: () => refresh() }, 'Try again'))));
    }
  } finally {
    clearTimeout(loadingTimer);
  }
  if (seq !== renderSeq) return;
  mainEl.removeAttribute('aria-busy');
  if (afterRender) afterRender(ctx);

  if (isRefresh) {
    const el = focusKey && findBySignature(focusKey);
    if (el) el.focus({ preventScroll: true });
    else if (!mainEl.contains(document.activeElement)) focusHeading(true);
  } else {
    window.scrollTo(0, 0);
    if (ctx.autofocus && ctx.autofocus.isConnected) ctx.autofocus.focus();
    else focusHeading(false);
  }
}

function focusHeading(preventScroll) {
  const h1 = mainEl.querySelector('h1');
  if (h1) {
    if (!h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll });
  } else {
    mainEl.focus({ preventScroll });
  }
}

function focusSignature(el) {
  if (!el || el === document.body || !mainEl.contains(el)) return null;
  const testid = el.getAttribute('data-testid');
  if (el.id) return { id: el.id };
  if (!testid) return null;
  const holder = el.closest('[data-task-id],[data-process-id],[data-flow]');
  return {
    testid,
    holder: holder ? ['data-task-id', 'data-process-id', 'data-flow'].map((a) => [a, holder.getAttribute(a)]).find(([, v]) => v) : null,
  };
}

function findBySignature(sig) {
  if (sig.id) {
    const el = document.getElementById(sig.id);
    return el && mainEl.contains(el) && !el.disabled ? el : null;
  }
  const esc = (v) => (window.CSS && CSS.escape ? CSS.escape(v) : v);
  let scope = mainEl;
  if (sig.holder) {
    scope = mainEl.querySelector(`[${sig.holder[0]}="${esc(sig.holder[1])}"]`);
    if (!scope) return null;
  }
  const el = scope.querySelector(`[data-testid="${esc(sig.testid)}"]`);
  return el && !el.disabled ? el : null;
}
