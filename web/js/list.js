// Building blocks of the list pages: a table that turns into cards on small screens,
// the filter bar (flow, dates, status), keyset pagination.

import { h } from './dom.js';
import { navigate } from './router.js';

/**
 * table({columns, rows, rowAttrs, caption, testid})
 * column: {label, render(row) → node|string, class, sort: {dir: 'asc'|'desc', onToggle}}
 */
export function table({ columns, rows, rowAttrs, caption, testid }) {
  const head = h('tr', null, columns.map((c) => {
    if (!c.sort) return h('th', { scope: 'col', class: c.class || null }, c.label);
    const dir = c.sort.dir;
    // a table may sort by one of several columns: the others say so (dir null)
    if (!dir) {
      return h('th', { scope: 'col', class: c.class || null, 'aria-sort': 'none' }, h('button', {
        type: 'button', class: 'sort-button', testid: c.sort.testid || 'sort-toggle', onClick: c.sort.onToggle,
        title: `Sort by ${c.label.toLowerCase()}, newest first`,
      }, c.label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, ' ↕')));
    }
    return h('th', {
      scope: 'col', class: c.class || null, 'aria-sort': dir === 'asc' ? 'ascending' : 'descending',
    }, h('button', {
      type: 'button', class: 'sort-button', testid: c.sort.testid || 'sort-toggle', onClick: c.sort.onToggle,
      title: dir === 'asc' ? 'Oldest first; select for newest first' : 'Newest first; select for oldest first',
    }, c.label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, dir === 'asc' ? ' ↑' : ' ↓'),
    h('span', { class: 'sr-only' }, dir === 'asc' ? ', oldest first' : ', newest first')));
  }));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table responsive', testid: testid || null },
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', null, head),
      h('tbody', null, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : null,
        columns.map((c) => h('td', { class: c.class || null, 'data-label': c.label }, c.render(row))))))));
}

/** Keyset pages: remembers the `after` values seen, so "Previous" works within a session. */
const stacks = new Map();

function stackKey(path, query) {
  const q = new URLSearchParams(query);
  q.delete('after');
  return `${path}?${q.toString()}`;
}

/** pager({path, query, nextAfter, count}) → nav element (or null when one page only). */
export function pager({ path, query, nextAfter, count }) {
  const key = stackKey(path, query);
  const after = query.get('after');
  let stack = stacks.get(key) || [];
  if (!after) stack = [];
  else {
    const i = stack.indexOf(after);
    if (i >= 0) stack = stack.slice(0, i + 1);
    else stack = [...stack, after];
  }
  stacks.set(key, stack);
  const page = after ? stack.length + 1 : 1;

  if (!after && !nextAfter) return null;
  const go = (a) => {
    const q = new URLSearchParams(query);
    if (a) q.set('after', a); else q.delete('after');
    navigate(path, q);
  };
  const prevAfter = stack.length >= 2 ? stack[stack.length - 2] : null;
  return h('nav', { class: 'pager', 'aria-label': 'Pages', testid: 'pager' },
    h('button', { type: 'button', class: 'btn btn-small', disabled: !after, testid: 'page-first', onClick: () => go(null) }, 'First'),
    h('button', { type: 'button', class: 'btn btn-small', disabled: !after, testid: 'page-prev', onClick: () => go(prevAfter) }, '‹ Previous'),
    h('span', { class: 'pager-info', 'aria-live': 'polite' }, `Page ${page}${count != null ? ` · ${count} shown` : ''}`),
    h('button', { type: 'button', class: 'btn btn-small', disabled: !nextAfter, testid: 'page-next', onClick: () => go(nextAfter) }, 'Next ›'));
}

let filterSeq = 0;

/**
 * filterBar({path, query, flows, dates, statuses, limits})
 * Submitting navigates to the same path with the new query (first page).
 */
export function filterBar({ path, query, flows, dates = true, statuses = null, extra = null, finished = false }) {
  const n = ++filterSeq;
  const id = (s) => `flt${n}-${s}`;
  const flowSel = flows ? h('select', { id: id('flow'), name: 'flow', testid: 'filter-flow' },
    h('option', { value: '' }, 'All flows'),
    flows.map((f) => h('option', { value: f.name, selected: query.get('flow') === f.name }, f.title || f.name))) : null;
  const statusSel = statuses ? h('select', { id: id('status'), name: 'status', testid: 'filter-status' },
    h('option', { value: '' }, 'Any status'),
    statuses.map((s) => h('option', { value: s, selected: query.get('status') === s }, s))) : null;
  const since = dates ? h('input', { type: 'date', id: id('since'), name: 'since', testid: 'filter-since', value: query.get('since') || '' }) : null;
  const until = dates ? h('input', { type: 'date', id: id('until'), name: 'until', testid: 'filter-until', value: query.get('until') || '' }) : null;
  // the archive also filters on the finished date (API finished_since / finished_until)
  const fsince = finished ? h('input', { type: 'date', id: id('fsince'), name: 'finished_since', testid: 'filter-finished-since', value: query.get('finished_since') || '' }) : null;
  const funtil = finished ? h('input', { type: 'date', id: id('funtil'), name: 'finished_until', testid: 'filter-finished-until', value: query.get('finished_until') || '' }) : null;
  const limit = h('select', { id: id('limit'), name: 'limit', testid: 'filter-limit' },
    [10, 25, 50, 100].map((v) => h('option', { value: String(v), selected: String(v) === (query.get('limit') || '25') }, String(v))));

  const active = FILTER_KEYS.some((k) => query.get(k));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the list', testid: 'filters' },
    flowSel ? h('div', { class: 'filter' }, h('label', { for: id('flow') }, 'Flow'), flowSel) : null,
    statusSel ? h('div', { class: 'filter' }, h('label', { for: id('status') }, 'Status'), statusSel) : null,
    since ? h('div', { class: 'filter' }, h('label', { for: id('since') }, 'Created from'), since) : null,
    until ? h('div', { class: 'filter' }, h('label', { for: id('until') }, 'Created until'), until) : null,
    fsince ? h('div', { class: 'filter' }, h('label', { for: id('fsince') }, 'Finished from'), fsince) : null,
    funtil ? h('div', { class: 'filter' }, h('label', { for: id('funtil') }, 'Finished until'), funtil) : null,
    h('div', { class: 'filter filter-narrow' }, h('label', { for: id('limit') }, 'Per page'), limit),
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'btn', testid: 'filter-apply' }, 'Apply'),
      active ? h('button', { type: 'button', class: 'btn btn-quiet', testid: 'filter-reset', onClick: () => {
        const q = new URLSearchParams();
        for (const k of ['sort', 'limit']) if (query.get(k)) q.set(k, query.get(k));
        navigate(path, q);
      } }, 'Clear filters') : null),
    extra);
  // on phones the block folds away (open while filters are set, and on wider screens)
  const count = FILTER_KEYS.filter((k) => query.get(k)).length;
  const fold = h('details', { class: 'filters-fold', testid: 'filters-fold', open: active || !window.matchMedia('(max-width: 640px)').matches },
    h('summary', { class: 'filters-summary', testid: 'filters-summary' }, count ? `Filters (${count} set)` : 'Filters'),
    form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (query.get('sort')) q.set('sort', query.get('sort'));
    const fd = new FormData(form);
    for (const [k, v] of fd.entries()) if (v !== '' && !(k === 'limit' && v === '25')) q.set(k, String(v));
    navigate(path, q);
  });
  return fold;
}

/** The query keys that filter a list (the rest sort and page it). */
const FILTER_KEYS = ['flow', 'status', 'since', 'until', 'finished_since', 'finished_until'];

/** Query parameters of the list for the API, from the page's query. */
export function listParams(query, keys) {
  const out = {};
  for (const k of keys) {
    const v = query.get(k);
    if (v) out[k] = v;
  }
  out.limit = query.get('limit') || '25';
  return out;
}
