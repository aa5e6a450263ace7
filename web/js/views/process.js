// One process: its data, the task history, the flow chart coloured by task status,
// and Cancel for managers. Also the list of processes.

import * as api from '../api.js';
import {
  h, badge, timeEl, dueEl, pageHeader, dataList, emptyState, confirmDialog, flash, flashError, setBusy,
} from '../dom.js';
import { STATUS, PROCESS_STATUSES, ACTIVE_PROCESS_STATUSES, statusKey } from '../status.js';
import { refresh, seg } from '../router.js';
import { tryFlowDef, getFlows } from '../flows-cache.js';
import { renderChart } from '../chart.js';
import { isManagerOf } from '../session.js';
import { refreshCounts } from '../counts.js';
import { table, pager, filterBar, listParams } from '../list.js';
import { taskName } from '../actions.js';
import { isTimeout, isReceive, waitsForText } from '../events.js';
import { timeoutList, waitItem } from '../event-ui.js';

const ACTIVE = new Set(ACTIVE_PROCESS_STATUSES);
const ACTIVE_TASK = new Set([STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED, STATUS.ERROR]);

export async function processView(ctx) {
  const id = ctx.params.id;
  const [res, flows] = await Promise.all([
    api.get(`/api/processes/${seg(id)}`),
    getFlows().catch(() => []),
  ]);
  const p = res.process || {};
  const tasks = (Array.isArray(res.tasks) ? res.tasks : []).slice().sort((a, b) => Number(a.id) - Number(b.id));
  const def = await tryFlowDef(p.flow);
  if (!ctx.alive()) return;
  const flowInfo = flows.find((f) => f.name === p.flow);
  const flowTitle = (def && def.title) || (flowInfo && flowInfo.title) || p.flow;
  const status = String(p.status || '').toUpperCase();
  document.title = `Process #${p.id} · flowhost`;

  const canCancel = ACTIVE.has(status) && isManagerOf(p.flow);
  const cancelBtn = canCancel ? h('button', {
    type: 'button', class: 'btn btn-danger-outline', testid: 'process-cancel',
    onClick: async (ev) => {
      const ok = await confirmDialog({
        title: 'Cancel this process?',
        message: `Process #${p.id}${p.summary ? ` (“${p.summary}”)` : ''} will be canceled together with every active task. Work in those tasks is lost.`,
        confirmLabel: 'Cancel process',
        cancelLabel: 'Keep it running',
      });
      if (!ok) return;
      const btn = ev.target.closest('button');
      setBusy(btn, true);
      try {
        await api.post(`/api/processes/${seg(p.id)}/cancel`, {});
        refreshCounts();
        flash(`Process #${p.id} was canceled.`, 'success');
        refresh();
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 401) return;
        flashError(api.describeError(e, 'cancel the process'));
      } finally {
        if (btn.isConnected) setBusy(btn, false);
      }
    },
  }, 'Cancel process') : null;

  const historyColumns = [
    { label: '#', class: 'col-id', render: (t) => h('a', { href: `#/tasks/${seg(t.id)}` }, `#${t.id}`) },
    {
      label: 'Task',
      class: 'col-main',
      render: (t) => [
        h('span', null,
          isTimeout(t) ? h('span', { class: 'kind-chip kind-timeout', 'aria-hidden': 'true' }, 'timeout') : null,
          h('a', { href: `#/tasks/${seg(t.id)}`, class: isTimeout(t) ? 'row-link row-link-quiet' : 'row-link', testid: 'history-task' }, taskName(t, def))),
        isReceive(t) && waitsForText(t) ? h('span', { class: 'row-note row-note-event', testid: 'waits-for' }, waitsForText(t)) : null,
      ],
    },
    { label: 'Status', render: (t) => badge(t.status) },
    // a timeout row is the engine's, never a person's: no owner, "engine" instead of a dash
    { label: 'Owner', render: (t) => t.owner || h('span', { class: 'muted' }, isTimeout(t) || isReceive(t) ? 'engine' : '—') },
    { label: 'Due', class: 'col-due', render: (t) => dueEl(t) },
    { label: 'Created', render: (t) => timeEl(t.created_at) },
    { label: 'Finished', render: (t) => timeEl(t.finished_at) },
    { label: 'Token', render: (t) => (t.token ? h('code', { class: 'token' }, t.token) : '—') },
  ];
  if (!tasks.some((t) => t.due_at)) historyColumns.splice(historyColumns.findIndex((c) => c.label === 'Due'), 1);

  const errors = tasks.filter((t) => statusKey(t.status) === STATUS.ERROR);

  // timeouts (armed, fired, disarmed), receivers and scheduled work: what this process waits for
  const timeouts = tasks.filter(isTimeout);
  const receivers = tasks.filter((t) => isReceive(t) && t.waits_for);
  const waitingReceivers = receivers.filter((t) => ACTIVE_TASK.has(statusKey(t.status)));
  const scheduled = tasks.filter((t) => !isTimeout(t) && statusKey(t.status) === STATUS.SCHEDULED && t.due_at);
  const eventsPanel = (timeouts.length || receivers.length || scheduled.length)
    ? h('section', { class: 'panel', 'aria-labelledby': 'events-title', testid: 'process-events' },
      h('h2', { class: 'panel-title', id: 'events-title' }, 'Timeouts and waits'),
      waitingReceivers.length || scheduled.length ? h('ul', { class: 'event-list', testid: 'wait-list' },
        waitingReceivers.map((t) => waitItem(t, def)),
        scheduled.map((t) => h('li', { class: 'event-item', testid: 'scheduled-item', 'data-task-id': t.id, 'data-node': t.node },
          h('span', { class: 'event-state event-state-armed' }, 'scheduled'), ' ',
          h('a', { href: `#/tasks/${seg(t.id)}`, class: 'event-link' }, taskName(t, def)), ' ', dueEl(t)))) : null,
      timeouts.length ? [
        h('h3', { class: 'side-subtitle' }, `Timeouts (${timeouts.filter((t) => statusKey(t.status) === STATUS.SCHEDULED).length} armed)`),
        timeoutList(timeouts, def, { testid: 'timeout-list', tasks }),
      ] : null,
      receivers.length > waitingReceivers.length ? h('p', { class: 'muted small' },
        receivers.filter((t) => !waitingReceivers.includes(t)).map((t, i) => [i ? ' · ' : '', `${t.title || t.node}: ${waitsForText(t)}`])) : null)
    : null;

  ctx.mount(
    pageHeader(h('span', null, p.summary || flowTitle, ' ', h('span', { class: 'id-chip id-chip-lg' }, `#${p.id}`)), {
      crumbs: [['Processes', '#/processes'], [`Process #${p.id}`, null]],
      sub: h('span', null, flowTitle, ' · started by ', p.created_by || 'the system', ' ', timeEl(p.created_at),
        p.finished_at ? [' · finished ', timeEl(p.finished_at)] : null),
      actions: [badge(status, 'process-status'), cancelBtn],
    }),
    errors.length ? h('div', { class: 'notice notice-error', role: 'note' },
      `${errors.length} task${errors.length === 1 ? '' : 's'} of this process ${errors.length === 1 ? 'is' : 'are'} in error: `,
      errors.map((t, i) => [i ? ', ' : '', h('a', { href: `#/tasks/${seg(t.id)}` }, `${taskName(t, def)} (#${t.id})`)]), '.') : null,
    h('div', { class: 'process-layout', testid: 'process-page', 'data-process-id': p.id, 'data-status': status },
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'chart-title' },
        h('h2', { class: 'panel-title', id: 'chart-title' }, 'Flow chart'),
        renderChart(p.flow, tasks, { title: `Flow chart of ${flowTitle}, coloured by task status` })),
      h('section', { class: 'panel', 'aria-labelledby': 'pdata-title' },
        h('h2', { class: 'panel-title', id: 'pdata-title' }, 'Data'),
        dataList(p.data, def && def.fields, 'process-data-list'))),
    eventsPanel,
    h('section', { class: 'panel panel-flush', 'aria-labelledby': 'history-title' },
      h('h2', { class: 'panel-title panel-title-pad', id: 'history-title' }, 'Task history'),
      tasks.length ? table({
        columns: historyColumns,
        rows: tasks,
        caption: 'Tasks of this process, oldest first',
        testid: 'history-table',
        rowAttrs: (t) => ({
          testid: 'history-row', 'data-task-id': t.id, 'data-status': t.status, 'data-node': t.node, 'data-type': t.type || null,
          class: isTimeout(t) ? 'row-timeout' : null,
        }),
      }) : h('p', { class: 'muted pad' }, 'No tasks.')),
  );
}

export async function processListView(ctx) {
  const path = '/processes';
  const params = listParams(ctx.query, ['flow', 'status', 'after']);
  const [flows, res] = await Promise.all([
    getFlows().catch(() => []),
    api.get('/api/processes', params),
  ]);
  const items = (res && res.items) || [];
  const titles = new Map(flows.map((f) => [f.name, f.title || f.name]));
  document.title = 'Processes · flowhost';

  const columns = [
    { label: '#', class: 'col-id', render: (p) => h('a', { href: `#/processes/${seg(p.id)}` }, `#${p.id}`) },
    {
      label: 'Process', class: 'col-main',
      render: (p) => h('a', { href: `#/processes/${seg(p.id)}`, class: 'row-link', testid: 'process-link' }, p.summary || `Process #${p.id}`),
    },
    { label: 'Flow', render: (p) => titles.get(p.flow) || p.flow },
    { label: 'Status', render: (p) => badge(p.status) },
    { label: 'Started by', render: (p) => p.created_by || h('span', { class: 'muted' }, '—') },
    { label: 'Created', class: 'col-age', render: (p) => timeEl(p.created_at) },
    { label: 'Finished', render: (p) => timeEl(p.finished_at) },
  ];
  const filtered = ['flow', 'status'].some((k) => ctx.query.get(k));
  ctx.mount(
    pageHeader('Processes', { sub: 'Processes you started or took part in; managers see every process of their flows. Newest first.' }),
    filterBar({ path, query: ctx.query, flows, dates: false, statuses: PROCESS_STATUSES }),
    h('section', { class: 'panel panel-flush', 'aria-label': 'Processes', testid: 'processes-list' },
      items.length ? table({
        columns,
        rows: items,
        caption: 'Processes',
        testid: 'processes-table',
        rowAttrs: (p) => ({ testid: 'process-row', 'data-process-id': p.id, 'data-status': p.status }),
      }) : (filtered ? emptyState('No processes match these filters.', 'Change or clear the filters to see more.')
        : emptyState('No processes yet.', 'Processes you start or work on appear here.', h('a', { class: 'btn', href: '#/start' }, 'Start one')))),
    pager({ path, query: ctx.query, nextAfter: res && res.next_after, count: items.length }),
  );
}
