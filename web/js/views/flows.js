// Flows: every flow with its load status; a flow that failed to load shows file, line, message.

import { h, timeEl, pageHeader, emptyState } from '../dom.js';
import { STATUS, FLOW_STATUS } from '../status.js';
import { seg } from '../router.js';
import * as api from '../api.js';
import { getFlows, getFlowDef } from '../flows-cache.js';
import { renderChart } from '../chart.js';
import { nodeTypeWord, nodeDetails } from '../events.js';
import { byTitle } from '../flow-access.js';
import { flowVersionsBlock } from '../versions.js';
import { flowHostsBlock } from '../hosts.js';

/** The steps of a flow, each with its kind and what it does (waits, deadlines, joins, ends);
 * for a flow of history = "lean" (docs/flow-dsl.md), what its processes do not keep. */
export function stepList(def) {
  const nodes = (def && def.nodes) || [];
  if (!nodes.length) return h('p', { class: 'muted' }, 'This flow has no steps.');
  const lean = def.history === 'lean' ? h('p', { class: 'small muted', testid: 'flow-history-lean' },
    'Lean history: the automatic steps a process runs straight through leave no task behind; '
    + 'its page lists the people\'s tasks, the waits and the joins.') : null;
  const list = h('ol', { class: 'step-list', testid: 'flow-steps' }, nodes.map((n) => {
    const details = nodeDetails(n, def);
    const type = String(n.type || '').replace(/[^a-z_]/g, '');
    return h('li', { class: `step kind-${type}`, testid: 'flow-step', 'data-node': n.name, 'data-type': type },
      h('div', { class: 'step-head' },
        h('span', { class: `kind-chip kind-${type}` }, nodeTypeWord(n.type)),
        n.foreach ? h('span', { class: 'kind-chip kind-foreach', title: 'Multiple instances: one task per item' }, '||| for each') : null,
        h('span', { class: 'step-title' }, n.title || n.name),
        h('code', { class: 'flow-name' }, n.name)),
      n.description ? h('p', { class: 'step-detail muted' }, n.description) : null,
      details.length ? h('p', { class: 'step-detail', testid: 'step-detail' }, `${details.join('; ')}.`) : null);
  }));
  return lean ? h('div', null, lean, list) : list;
}

/** The load error of a flow: file:line for its managers; others get a plain sentence. */
function flowError(f) {
  const e = f.error || {};
  return h('div', { class: 'flow-error', testid: 'flow-error', role: 'note' },
    e.file ? h('p', { class: 'flow-error-where' },
      h('span', { class: 'sr-only' }, 'Error in '),
      h('code', { testid: 'flow-error-location' }, `${e.file}${e.line != null ? `:${e.line}` : ''}`)) : null,
    e.file ? h('pre', { class: 'flow-error-message', testid: 'flow-error-message' }, e.message || 'The flow failed to load.')
      : h('p', { class: 'small', testid: 'flow-error-message' }, 'This flow is not available at the moment; an administrator can see why.'),
    f.loaded_at ? h('p', { class: 'small muted' }, 'The version loaded ', timeEl(f.loaded_at), ' keeps serving until the file is fixed.')
      : h('p', { class: 'small muted' }, 'No working version of this flow is loaded.'));
}

/** A <details> that renders its body on first opening. */
function lazyDetails(label, testid, render) {
  const holder = h('div', { class: 'flow-chart-holder' });
  const details = h('details', { class: 'flow-chart-details', testid }, h('summary', null, label), holder);
  details.addEventListener('toggle', () => {
    if (details.open && !holder.firstChild) render(holder);
  });
  return details;
}

function flowRow(f) {
  const ok = f.status !== FLOW_STATUS.ERROR;
  const starts = (f.start_nodes || []).filter((n) => n.can_start);
  const chart = lazyDetails('Flow chart', null, (holder) => {
    const c = renderChart(f.name, [], { title: `Flow chart of ${f.title || f.name}`, plain: true });
    c.setAttribute('data-testid', 'flow-chart');
    holder.appendChild(c);
  });
  chart.classList.add('flow-chart-main');
  const steps = lazyDetails('Steps', 'flow-steps-details', async (holder) => {
    holder.appendChild(h('p', { class: 'muted' }, 'Loading the steps…'));
    try {
      holder.replaceChildren(stepList(await getFlowDef(f.name)));
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 401) return;
      holder.replaceChildren(h('p', { class: 'chart-error', role: 'note' }, api.describeError(e, 'load the steps')));
    }
  });
  steps.classList.add('flow-steps-details');
  const served = ok || f.loaded_at;
  return h('article', {
    class: `flow-row ${ok ? '' : 'flow-card-error'}`, testid: 'flow-card', 'data-flow': f.name, 'data-status': f.status || FLOW_STATUS.OK,
  },
  h('div', { class: 'flow-row-head' },
    h('h2', { class: 'flow-row-title' }, f.title || f.name, ' ', h('code', { class: 'flow-name' }, f.name)),
    ok ? null : h('span', { class: `badge st-${STATUS.ERROR}`, testid: 'flow-status', 'data-status': FLOW_STATUS.ERROR },
      f.error && f.error.file ? 'Load error' : 'Unavailable'),
    h('div', { class: 'flow-row-actions' },
      starts.map((n) => h('a', { class: 'btn btn-small btn-primary', href: `#/start/${seg(f.name)}/${seg(n.name)}` }, n.title || 'Start')),
      h('a', { class: 'btn btn-small', href: `#/processes?flow=${encodeURIComponent(f.name)}` }, 'Processes'))),
  f.description ? h('p', { class: 'flow-row-text' }, f.description) : null,
  ok ? null : flowError(f),
  served ? h('div', { class: 'flow-row-more' },
    ok && f.loaded_at ? h('span', { class: 'small muted' }, 'Loaded ', timeEl(f.loaded_at)) : null,
    flowVersionsBlock(f),
    flowHostsBlock(f),
    chart, steps) : null);
}

/** The search: every word must be in the title, name or description. */
function matches(f, words) {
  const hay = `${f.title || ''} ${f.name} ${f.description || ''}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

export async function flowsView(ctx) {
  const flows = byTitle(await getFlows(true));   // one order everywhere: by title
  document.title = 'Flows · flowhost';
  const failing = flows.filter((f) => f.status === FLOW_STATUS.ERROR).length;
  const rows = flows.map((f) => ({ f, el: flowRow(f) }));
  const list = h('div', { class: 'flow-list flow-list-compact', testid: 'flow-list' }, rows.map((r) => r.el));
  const none = h('p', { class: 'muted', testid: 'flows-none', hidden: true }, 'No flow matches the search.');
  const search = h('input', {
    type: 'search', id: 'flows-search', testid: 'flows-search', placeholder: 'Search by title, name or description',
    value: ctx.query.get('q') || '', autocomplete: 'off',
  });
  const apply = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const r of rows) {
      r.el.hidden = !matches(r.f, words);
      if (!r.el.hidden) shown += 1;
    }
    none.hidden = shown > 0;
    // the search is part of the URL (shareable), without a new history entry per key
    const q = new URLSearchParams(ctx.query);
    if (search.value.trim()) q.set('q', search.value.trim()); else q.delete('q');
    const hash = `#/flows${q.toString() ? `?${q}` : ''}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  };
  search.addEventListener('input', apply);
  if (search.value) apply();

  ctx.mount(
    pageHeader('Flows', {
      sub: failing
        ? `${flows.length} flow${flows.length === 1 ? '' : 's'}; ${failing} failed to load.`
        : `${flows.length} flow${flows.length === 1 ? '' : 's'}, all loaded.`,
    }),
    flows.length ? h('div', { class: 'flows-search', role: 'search' },
      h('label', { for: 'flows-search', class: 'sr-only' }, 'Search the flows'), search) : null,
    flows.length ? list
      : h('section', { class: 'panel' }, emptyState('No flows are loaded.', 'Put flow files in the flows folder; the host loads them as they change.')),
    none,
  );
}
