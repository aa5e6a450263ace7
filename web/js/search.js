// Search by process data (issue 15): a search box over the fields marked `search = true` in
// the flows' definitions, for the process list and the task lists. It sets data.<field>
// (exact) or data.<field>_gte / _lte / _gt / _lt (numbers and dates) in the page's query,
// which the list passes on to GET /api/processes or GET /api/tasks unchanged.

import { h } from './dom.js';
import { navigate } from './router.js';
import { tryFlowDef } from './flows-cache.js';

const OPS = [
  ['', '='], ['_gte', '≥'], ['_lte', '≤'], ['_gt', '>'], ['_lt', '<'],
];
const RANGED = new Set(['integer', 'number', 'date']);
let seq = 0;

/** The searchable fields of the flows (one entry per name; the first flow's schema wins). */
export async function searchFields(flows) {
  const defs = await Promise.all((flows || []).map((f) => tryFlowDef(f.name)));
  const out = new Map();
  for (const def of defs) {
    for (const f of (def && def.fields) || []) {
      if (f.search && !out.has(f.name)) out.set(f.name, f);
    }
  }
  return [...out.values()];
}

/** The data.* parameters of the page's query, for the API. */
export function searchParams(query) {
  const out = {};
  for (const [k, v] of query.entries()) if (k.startsWith('data.')) out[k] = v;
  return out;
}

/** Hidden inputs that keep the search when the list's filter bar is applied. */
export function searchHidden(query) {
  return Object.entries(searchParams(query)).map(([k, v]) => h('input', { type: 'hidden', name: k, value: v }));
}

function opLabel(key) {
  const op = OPS.find(([suffix]) => suffix && key.endsWith(suffix));
  return op ? op[1] : '=';
}

/** The active searches as removable chips. */
function chips(path, query, fields) {
  const active = Object.entries(searchParams(query));
  if (!active.length) return null;
  return h('ul', { class: 'search-chips', 'aria-label': 'Active searches', testid: 'search-chips' },
    active.map(([k, v]) => {
      const op = opLabel(k);
      const name = op === '=' ? k.slice(5) : k.slice(5, k.lastIndexOf('_'));
      const f = fields.find((x) => x.name === name);
      return h('li', { class: 'search-chip', testid: 'search-chip' },
        `${(f && f.label) || name} ${op} ${v}`,
        h('button', {
          type: 'button', class: 'btn btn-quiet btn-small', 'aria-label': `Remove the search on ${(f && f.label) || name}`,
          onClick: () => {
            const q = new URLSearchParams(query);
            q.delete(k);
            q.delete('after');
            navigate(path, q);
          },
        }, '×'));
    }));
}

/** The search box (null when no flow has a searchable field). */
export function searchBox({ path, query, fields }) {
  if (!fields || !fields.length) return null;
  const n = ++seq;
  const id = (s) => `srch${n}-${s}`;
  const fieldSel = h('select', { id: id('field'), testid: 'search-field' },
    fields.map((f) => h('option', { value: f.name }, f.label || f.name)));
  const opSel = h('select', { id: id('op'), testid: 'search-op', 'aria-label': 'Comparison' },
    OPS.map(([suffix, label]) => h('option', { value: suffix }, label)));
  const value = h('input', { id: id('value'), type: 'search', testid: 'search-value', required: true, autocomplete: 'off' });
  const sync = () => {
    const f = fields.find((x) => x.name === fieldSel.value) || {};
    opSel.disabled = !RANGED.has(f.type);
    if (opSel.disabled) opSel.value = '';
    value.type = f.type === 'date' ? 'date' : f.type === 'integer' || f.type === 'number' ? 'number' : 'search';
    if (f.type === 'number') value.step = 'any';
    value.placeholder = f.type === 'boolean' ? 'true or false' : '';
  };
  fieldSel.addEventListener('change', sync);
  sync();
  const form = h('form', { class: 'filters search-box', role: 'search', 'aria-label': 'Search by process data', testid: 'search-box' },
    h('div', { class: 'filter' }, h('label', { for: id('field') }, 'Search by'), fieldSel),
    h('div', { class: 'filter filter-narrow' }, h('label', { for: id('op') }, 'Is'), opSel),
    h('div', { class: 'filter' }, h('label', { for: id('value') }, 'Value'), value),
    h('div', { class: 'filter-buttons' }, h('button', { type: 'submit', class: 'btn', testid: 'search-apply' }, 'Search')),
    chips(path, query, fields));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(query);
    q.delete('after');
    q.set(`data.${fieldSel.value}${opSel.value}`, value.value.trim());
    navigate(path, q);
  });
  return form;
}
