// Flows: every flow with its load status; a flow that failed to load shows file, line, message.

import { h, timeEl, pageHeader, emptyState } from '../dom.js';
import { STATUS, FLOW_STATUS } from '../status.js';
import { seg } from '../router.js';
import { getFlows } from '../flows-cache.js';
import { renderChart } from '../chart.js';

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
    h('div', { class: 'card-actions' },
      starts.map((n) => h('a', { class: 'btn btn-small btn-primary', href: `#/start/${seg(f.name)}/${seg(n.name)}` }, n.title || 'Start')),
      h('a', { class: 'btn btn-small', href: `#/processes?flow=${encodeURIComponent(f.name)}` }, 'Processes')),
    ok || f.loaded_at ? details : null);
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
