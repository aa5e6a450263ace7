// Flows: every flow with its load status; a flow that failed to load shows file, line, message.

import { h, timeEl, pageHeader, emptyState } from '../dom.js';
import { STATUS, FLOW_STATUS } from '../status.js';
import { seg } from '../router.js';
import * as api from '../api.js';
import { getFlows, getFlowDef } from '../flows-cache.js';
import { renderChart } from '../chart.js';
import { nodeTypeWord, nodeDetails } from '../events.js';
import { flowVersionsBlock } from '../versions.js';

/** The steps of a flow, each with its kind and what it does (waits, deadlines, joins, ends). */
export function stepList(def) {
  const nodes = (def && def.nodes) || [];
  if (!nodes.length) return h('p', { class: 'muted' }, 'This flow has no steps.');
  return h('ol', { class: 'step-list', testid: 'flow-steps' }, nodes.map((n) => {
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
}

export async function flowsView(ctx) {
  const flows = await getFlows(true);
  document.title = 'Flows · flowhost';
  const sorted = flows.slice().sort((a, b) => {
    // failures first: they need attention
    const ea = a.status === FLOW_STATUS.ERROR ? 0 : 1;
    const eb = b.status === FLOW_STATUS.ERROR ? 0 : 1;
    return ea - eb || String(a.title || a.name).localeCompare(String(b.title || b.name));
  });
  const failing = flows.filter((f) => f.status === FLOW_STATUS.ERROR).length;

  const cards = sorted.map((f) => {
    const ok = f.status !== FLOW_STATUS.ERROR;
    const starts = (f.start_nodes || []).filter((n) => n.can_start);
    const chartHolder = h('div', { class: 'flow-chart-holder' });
    const details = h('details', { class: 'flow-chart-details' },
      h('summary', null, 'Flow chart'),
      chartHolder);
    details.addEventListener('toggle', () => {
      if (details.open && !chartHolder.firstChild) {
        const chart = renderChart(f.name, [], { title: `Flow chart of ${f.title || f.name}`, plain: true });
        chart.setAttribute('data-testid', 'flow-chart');
        chartHolder.appendChild(chart);
      }
    });
    const stepsHolder = h('div', { class: 'flow-steps-holder' });
    const steps = h('details', { class: 'flow-chart-details flow-steps-details', testid: 'flow-steps-details' },
      h('summary', null, 'Steps'),
      stepsHolder);
    steps.addEventListener('toggle', async () => {
      if (!steps.open || stepsHolder.firstChild) return;
      stepsHolder.appendChild(h('p', { class: 'muted' }, 'Loading the steps…'));
      try {
        const def = await getFlowDef(f.name);
        stepsHolder.replaceChildren(stepList(def));
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 401) return;
        stepsHolder.replaceChildren(h('p', { class: 'chart-error', role: 'note' }, api.describeError(e, 'load the steps')));
      }
    });
    return h('article', {
      class: `card flow-card ${ok ? '' : 'flow-card-error'}`, testid: 'flow-card', 'data-flow': f.name, 'data-status': f.status || FLOW_STATUS.OK,
    },
    h('div', { class: 'card-head' },
      h('h2', { class: 'card-title' }, f.title || f.name, ' ', h('code', { class: 'flow-name' }, f.name)),
      h('span', { class: `badge st-${ok ? STATUS.DONE : STATUS.ERROR}`, testid: 'flow-status', 'data-status': ok ? FLOW_STATUS.OK : FLOW_STATUS.ERROR },
        ok ? 'Loaded' : 'Load error')),
    f.description ? h('p', { class: 'card-text' }, f.description) : null,
    ok ? null : h('div', { class: 'flow-error', testid: 'flow-error', role: 'note' },
      h('p', { class: 'flow-error-where' },
        h('span', { class: 'sr-only' }, 'Error in '),
        h('code', { testid: 'flow-error-location' }, `${(f.error && f.error.file) || `${f.name}.lua`}${f.error && f.error.line != null ? `:${f.error.line}` : ''}`)),
      h('pre', { class: 'flow-error-message', testid: 'flow-error-message' }, (f.error && f.error.message) || 'The flow failed to load.'),
      f.loaded_at ? h('p', { class: 'small muted' }, 'The version loaded ', timeEl(f.loaded_at), ' keeps serving until the file is fixed.')
        : h('p', { class: 'small muted' }, 'No working version of this flow is loaded.')),
    ok && f.loaded_at ? h('p', { class: 'small muted' }, 'Loaded ', timeEl(f.loaded_at)) : null,
    flowVersionsBlock(f),
    h('div', { class: 'card-actions' },
      starts.map((n) => h('a', { class: 'btn btn-small btn-primary', href: `#/start/${seg(f.name)}/${seg(n.name)}` }, n.title || 'Start')),
      h('a', { class: 'btn btn-small', href: `#/processes?flow=${encodeURIComponent(f.name)}` }, 'Processes')),
    ok || f.loaded_at ? details : null,
    ok || f.loaded_at ? steps : null);
  });

  ctx.mount(
    pageHeader('Flows', {
      sub: failing
        ? `${flows.length} flow${flows.length === 1 ? '' : 's'}; ${failing} failed to load.`
        : `${flows.length} flow${flows.length === 1 ? '' : 's'}, all loaded.`,
    }),
    cards.length ? h('div', { class: 'flow-list', testid: 'flow-list' }, cards)
      : h('section', { class: 'panel' }, emptyState('No flows are loaded.', 'Put flow files in the flows folder; the host loads them as they change.')),
  );
}
