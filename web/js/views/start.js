// Start: the flows I may start (GET /api/flows, start_nodes[].can_start), and for each
// start node a form generated from the flow's field schema (GET /api/flows/{flow}).

import { byTitle } from '../flow-access.js';
import * as api from '../api.js';
import { flowErrorBlock } from '../flow-error.js';
import { h, setContent, pageHeader, emptyState, flash, flashError, badge } from '../dom.js';
import { STATUS, FLOW_STATUS } from '../status.js';
import { navigate, seg } from '../router.js';
import { getFlows, getFlowDef } from '../flows-cache.js';
import { buildForm } from '../forms.js';
import { refreshCounts } from '../counts.js';
import { nextForMe, taskLinks } from '../actions.js';

export async function startListView(ctx) {
  const flows = await getFlows(true);
  document.title = 'Start · flowhost';
  const startable = byTitle(flows)   // one order everywhere: by title
    .map((f) => ({ ...f, nodes: (f.start_nodes || []).filter((n) => n.can_start) }))
    .filter((f) => f.nodes.length);

  const cards = startable.map((f) => h('article', { class: 'card start-card', testid: 'start-flow', 'data-flow': f.name },
    h('div', { class: 'card-head' },
      h('h2', { class: 'card-title' }, f.title || f.name),
      f.status === FLOW_STATUS.ERROR ? h('span', { class: `badge st-${STATUS.ERROR}`, title: 'The latest version of this flow failed to load; the previous one is in use.' }, 'Load error') : null),
    f.description ? h('p', { class: 'card-text' }, f.description) : null,
    h('div', { class: 'card-actions' },
      f.nodes.map((n) => h('a', {
        class: 'btn btn-primary', href: `#/start/${seg(f.name)}/${seg(n.name)}`,
        testid: `start-${f.name}-${n.name}`,
      }, n.title || (f.nodes.length > 1 ? n.name : 'Start'))))));

  ctx.mount(
    pageHeader('Start a process', { sub: 'Choose what to start. Each button opens its form.' }),
    cards.length
      ? h('div', { class: 'card-grid', testid: 'start-list' }, cards)
      : h('section', { class: 'panel' }, emptyState('There is nothing you may start.', 'Ask an administrator for the permission to start a flow.')));
}

export async function startFormView(ctx) {
  const { flow, node } = ctx.params;
  const [def, flows] = await Promise.all([getFlowDef(flow, true), getFlows().catch(() => [])]);
  const n = def.nodes.find((x) => x.name === node);
  if (!n || (n.type !== 'start' && n.type !== 'start_function')) {
    throw new api.ApiError(404, 'not_found', `“${node}” is not a start node of the flow “${flow}”.`);
  }
  const names = Array.isArray(n.fields) ? n.fields : [];
  const fields = names.map((name) => def.fields.find((f) => f.name === name) || { name, type: 'string', label: name });
  const title = n.title || def.title || flow;
  document.title = `${title} · Start · flowhost`;

  // A form the user may not send is not offered (the link was typed or kept from before).
  const listed = flows.find((f) => f.name === flow);
  const startNode = listed && (listed.start_nodes || []).find((x) => x.name === node);
  if (startNode && startNode.can_start === false) {
    ctx.mount(
      pageHeader(title, { crumbs: [['Start', '#/start'], [def.title || flow, null]] }),
      h('section', { class: 'panel', testid: 'start-forbidden' },
        emptyState('You may not start this.', 'Ask an administrator for the permission to start this flow.',
          h('a', { class: 'btn', href: '#/start' }, 'See what you may start'))));
    return;
  }

  const formErr = h('div', { class: 'form-error', testid: 'form-error', role: 'alert', hidden: true });
  const showFormError = (content) => {
    setContent(formErr, content);
    formErr.hidden = false;
  };

  const form = buildForm({
    fields,
    idPrefix: 'start',
    submitLabel: 'Start',
    submitTestid: 'start-submit',
    ariaLabel: title,
    emptyText: 'This start needs no input.',
    extra: h('a', { class: 'btn btn-quiet', href: '#/start' }, 'Back'),
    onLocalErrors: () => { showFormError('Please correct the fields marked below.'); },
    onSubmit: async (data, f) => {
      formErr.hidden = true;
      try {
        const res = await api.post(`/api/flows/${seg(flow)}/start/${seg(node)}`, { data });
        refreshCounts();
        const p = res && res.process;
        const mine = nextForMe(res && res.tasks);
        const msg = [`Started process #${p ? p.id : '?'}${p && p.summary ? `: ${p.summary}` : ''}.`];
        if (mine.length) msg.push(' Next for you: ', taskLinks(mine), '.');
        flash(msg, 'success', { keep: true });
        if (p) navigate(`/processes/${seg(p.id)}`);
        else navigate('/start');
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 401) return;
        if (e instanceof api.ApiError && e.code === 'invalid' && e.fields) {
          const rest = f.setErrors(e.fields);
          const other = Object.entries(rest);
          showFormError([
            e.message && e.message !== 'invalid' ? api.sentence(e.message) : 'Please correct the fields marked below.',
            other.length ? h('ul', null, other.map(([k, m]) => h('li', null, `${k}: ${m}`))) : null,
          ]);
          f.focusFirstError() || formErr.focus();
          flashError(api.describeError(e, 'start the process'));
        } else {
          const msg = api.describeError(e, 'start the process');
          showFormError(e.code === 'flow_error' ? flowErrorBlock(e, 'start the process') : msg);
          flashError(msg);
        }
      }
    },
  });
  formErr.setAttribute('tabindex', '-1');

  ctx.mount(
    pageHeader(title, {
      crumbs: [['Start', '#/start'], [def.title || flow, null]],
      sub: def.description || null,
      actions: def.status === FLOW_STATUS.ERROR ? badge(STATUS.ERROR) : null,
    }),
    h('section', { class: 'panel form-panel', testid: 'start-form', 'data-flow': flow, 'data-node': node },
      fields.some((f) => f.required) ? h('p', { class: 'form-note', 'aria-hidden': 'true' }, 'Fields marked * are required.') : null,
      formErr,
      form.form));
}
