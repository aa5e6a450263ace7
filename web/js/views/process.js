// One process: its data, the task history, the flow chart coloured by task status,
// and Cancel for managers; the process it is part of (a Subprocess task's child) and the
// child processes it started; a :ForEach group as one row with its instances beneath.
// Also the list of processes.

import { durationEl } from '../format.js';
import { touchableFlows } from '../flow-access.js';
import * as api from '../api.js';
import {
  h, badge, timeEl, dueEl, pageHeader, dataList, emptyState, confirmDialog, flash, flashError, setBusy,
} from '../dom.js';
import { STATUS, PROCESS_STATUSES, ACTIVE_PROCESS_STATUSES, statusKey } from '../status.js';
import { refresh, seg } from '../router.js';
import { tryFlowDef, getFlows } from '../flows-cache.js';
import { renderChart } from '../chart.js';
import { isManagerOf, user } from '../session.js';
import { refreshCounts } from '../counts.js';
import { table, pager, filterBar, listParams } from '../list.js';
import { searchBox, searchFields, searchParams, searchHidden } from '../search.js';
import { commentsPanel } from '../comments.js';
import { auditPanel } from '../audit.js';
import { taskName, taskTitle } from '../actions.js';
import { isTimeout, isReceive, waitsForText } from '../events.js';
import { timeoutList, waitItem } from '../event-ui.js';
import {
  isController, isInstance, isSubprocess, instancesOf, groupProgress, progressText, instanceItem,
} from '../compose.js';
import { processVersionNote } from '../versions.js';

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
  // in the order of the tasks that started them (a multi-instance Subprocess's instances in
  // their order): each child starts on a job of its own, so their ids may come in any order
  const children = (Array.isArray(res.children) ? res.children : []).slice()
    .sort((a, b) => (Number(a.parent_task_id) || 0) - (Number(b.parent_task_id) || 0) || Number(a.id) - Number(b.id));
  const parentId = p.parent && p.parent.process_id;
  // the parent (for its flow and the title of the task that started this one) and the
  // children's summaries: one request each, both optional (a user may not see the parent)
  const [def, parentRes, childList] = await Promise.all([
    tryFlowDef(p.flow),
    parentId ? api.get(`/api/processes/${seg(parentId)}`).catch(optional) : null,
    children.length ? api.get('/api/processes', { parent: p.id, limit: 500 }).catch(optional) : null,
  ]);
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
          isController(t) ? h('span', { class: 'kind-chip kind-foreach' }, 'group') : null,
          isInstance(t) ? h('span', { class: 'instance-mark', 'aria-hidden': 'true' }, '↳') : null,
          isSubprocess(t) ? h('span', { class: 'kind-chip kind-subprocess' }, 'subprocess') : null,
          h('a', { href: `#/tasks/${seg(t.id)}`, class: isTimeout(t) ? 'row-link row-link-quiet' : 'row-link', testid: 'history-task' },
            isInstance(t) ? [taskTitle(t, def), h('span', { class: 'instance-item', testid: 'task-item' }, ` · ${instanceItem(t)}`)] : taskName(t, def)),
          isController(t) ? [h('span', { class: 'group-sep', 'aria-hidden': 'true' }, ' — '),
            h('span', { class: 'group-progress', testid: 'group-progress' }, progressText(groupProgress(t, tasks)))] : null),
        isReceive(t) && waitsForText(t) ? h('span', { class: 'row-note row-note-event', testid: 'waits-for' }, waitsForText(t)) : null,
        isSubprocess(t) && t.child_id != null ? h('span', { class: 'row-note', testid: 'history-child' },
          'Child ', h('a', { href: `#/processes/${seg(t.child_id)}`, testid: 'history-child-link' }, `process #${t.child_id}`),
          childStatusWord(children, t.child_id)) : null,
      ],
    },
    { label: 'Status', render: (t) => badge(t.status) },
    // a timeout row (or a group, a subprocess) is the engine's, never a person's: "engine" instead of a dash
    { label: 'Owner', render: (t) => t.owner || h('span', { class: 'muted' }, engineRow(t) ? 'engine' : '—') },
    { label: 'Due', class: 'col-due', render: (t) => dueEl(t) },
    { label: 'Created', render: (t) => timeEl(t.created_at) },
    { label: 'Finished', render: (t) => timeEl(t.finished_at) },
    { label: 'Took', render: (t) => durationEl(t.created_at, t.finished_at, { testid: 'task-took' }) || h('span', { class: 'muted' }, '—') },
    { label: 'Token', render: (t) => (t.token ? h('code', { class: 'token' }, t.token) : '—') },
  ];
  if (!tasks.some((t) => t.due_at)) historyColumns.splice(historyColumns.findIndex((c) => c.label === 'Due'), 1);
  // a job's failed attempts (API "attempts"; :Retry tries again): a column when any task failed once
  if (tasks.some((t) => t.attempts)) {
    historyColumns.splice(historyColumns.findIndex((c) => c.label === 'Status') + 1, 0, {
      label: 'Failed attempts', render: (t) => (t.attempts ? h('span', { testid: 'task-attempts' }, String(t.attempts)) : '—'),
    });
  }

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

  const flowTitleOf = (name) => {
    const f = flows.find((x) => x.name === name);
    return (f && f.title) || name;
  };
  const parentPanel = parentId ? parentNotice(p, parentRes, flowTitleOf) : null;
  const childrenPanel = children.length ? childrenSection(children, tasks, def, (childList && childList.items) || [], flowTitleOf) : null;

  ctx.mount(
    pageHeader(h('span', null, p.summary || flowTitle, ' ', h('span', { class: 'id-chip id-chip-lg' }, `#${p.id}`)), {
      crumbs: [['Processes', '#/processes'],
        parentId ? [`Process #${parentId}`, `#/processes/${seg(parentId)}`] : null,
        [`Process #${p.id}`, null]].filter(Boolean),
      sub: h('span', null, flowTitle, ' · started by ', p.created_by || 'the system', ' ', timeEl(p.created_at),
        p.finished_at ? [' · finished ', timeEl(p.finished_at), ' · ', durationEl(p.created_at, p.finished_at, { prefix: 'ran ', testid: 'process-ran' })] : null),
      actions: [badge(status, 'process-status'), cancelBtn],
    }),
    errors.length ? h('div', { class: 'notice notice-error', role: 'note' },
      `${errors.length} task${errors.length === 1 ? '' : 's'} of this process ${errors.length === 1 ? 'is' : 'are'} in error: `,
      errors.map((t, i) => [i ? ', ' : '', h('a', { href: `#/tasks/${seg(t.id)}` }, `${taskName(t, def)} (#${t.id})`)]), '.') : null,
    parentPanel,
    processVersionNote(p, flowInfo),
    h('div', { class: 'process-layout', testid: 'process-page', 'data-process-id': p.id, 'data-status': status },
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'chart-title' },
        h('h2', { class: 'panel-title', id: 'chart-title' }, 'Flow chart'),
        renderChart(p.flow, tasks, { title: `Flow chart of ${flowTitle}, coloured by task status`, lean: !!def && def.history === 'lean' })),
      h('section', { class: 'panel', 'aria-labelledby': 'pdata-title' },
        h('h2', { class: 'panel-title', id: 'pdata-title' }, 'Data'),
        dataList(p.data, def && def.fields, 'process-data-list'))),
    eventsPanel,
    childrenPanel,
    h('section', { class: 'panel panel-flush', 'aria-labelledby': 'history-title' },
      h('h2', { class: 'panel-title panel-title-pad', id: 'history-title' }, 'Task history'),
      // history = "lean" (docs/flow-dsl.md): the automatic steps that ran straight through are not kept
      def && def.history === 'lean' ? h('p', { class: 'muted pad', testid: 'lean-history-note' },
        'This flow keeps a lean history: the automatic steps that ran straight through are not listed.') : null,
      tasks.length ? table({
        columns: historyColumns,
        rows: historyRows(tasks),
        caption: 'Tasks of this process, oldest first; the instances of a group beneath it',
        testid: 'history-table',
        rowAttrs: (t) => ({
          testid: 'history-row', 'data-task-id': t.id, 'data-status': t.status, 'data-node': t.node, 'data-type': t.type || null,
          'data-group-id': isInstance(t) ? t.group_id : null,
          'data-item': isInstance(t) ? instanceItem(t) : null,
          class: [isTimeout(t) ? 'row-timeout' : null, isController(t) ? 'row-group' : null,
            isInstance(t) ? 'row-instance' : null].filter(Boolean).join(' ') || null,
        }),
      }) : h('p', { class: 'muted pad' }, 'No tasks.')),
    auditPanel(p.id, def),
    commentsPanel({ processId: p.id }),
  );
}

const optional = (e) => {
  if (e instanceof api.ApiError && e.status === 401) throw e;
  return { error: e };
};

function engineRow(t) {
  return isTimeout(t) || isReceive(t) || isController(t) || isSubprocess(t);
}

/** The status badge of a child process after its link, from the process's children. */
function childStatusWord(children, id) {
  const c = children.find((x) => Number(x.id) === Number(id));
  return c && c.status ? [' ', badge(c.status, 'history-child-status')] : null;
}

/**
 * The history in id order, except that the instances of a :ForEach group follow their
 * controller (in item order): a sequential group's later instances move up beneath it.
 */
export function historyRows(tasks) {
  const controllers = new Set(tasks.filter(isController).map((t) => Number(t.id)));
  const rows = [];
  for (const t of tasks) {
    if (isInstance(t) && controllers.has(Number(t.group_id))) continue;
    rows.push(t);
    if (isController(t)) rows.push(...instancesOf(t, tasks));
  }
  return rows;
}

/** "Part of process #1 (Order), started by task Ship · north (#8)". */
function parentNotice(p, parentRes, flowTitleOf) {
  const pid = p.parent.process_id;
  const tid = p.parent.task_id;
  const parent = parentRes && parentRes.process;
  const task = parent && Array.isArray(parentRes.tasks) ? parentRes.tasks.find((t) => Number(t.id) === Number(tid)) : null;
  const link = h('a', { href: `#/processes/${seg(pid)}`, testid: 'parent-link' }, `process #${pid}`);
  return h('section', { class: 'notice notice-parent', testid: 'process-parent', 'data-parent-id': pid, 'aria-label': 'Parent process' },
    h('span', { class: 'kind-chip kind-subprocess', 'aria-hidden': 'true' }, 'subprocess'),
    'Part of ', link,
    parent ? [' (', h('span', { testid: 'parent-flow' }, flowTitleOf(parent.flow)), ')'] : null,
    tid ? [', started by task ', task
      ? h('a', { href: `#/tasks/${seg(tid)}`, testid: 'parent-task-link' }, `${taskName(task)} (#${tid})`)
      : h('a', { href: `#/tasks/${seg(tid)}`, testid: 'parent-task-link' }, `#${tid}`)] : null,
    '.',
    parent ? [' ', h('span', { class: 'sr-only' }, `Process #${pid} is `), badge(parent.status, 'parent-status')] : null,
    parent && parent.summary ? [' ', h('span', { class: 'notice-note muted' }, parent.summary)] : null,
    !parent ? [' ', h('span', { class: 'notice-note muted' }, 'You may not see that process.')] : null);
}

/** The processes this one started (Subprocess tasks), with flow, status and the task of each. */
function childrenSection(children, tasks, def, listed, flowTitleOf) {
  const summaries = new Map(listed.map((c) => [Number(c.id), c]));
  const taskById = new Map(tasks.map((t) => [Number(t.id), t]));
  const open = children.filter((c) => ACTIVE.has(statusKey(c.status))).length;
  const columns = [
    { label: '#', class: 'col-id', render: (c) => h('a', { href: `#/processes/${seg(c.id)}` }, `#${c.id}`) },
    {
      label: 'Process', class: 'col-main',
      render: (c) => {
        const full = summaries.get(Number(c.id));
        return h('a', { href: `#/processes/${seg(c.id)}`, class: 'row-link', testid: 'child-link' },
          (full && full.summary) || `Process #${c.id}`);
      },
    },
    { label: 'Flow', render: (c) => h('span', { testid: 'child-flow' }, flowTitleOf(c.flow)) },
    { label: 'Status', render: (c) => badge(c.status, 'child-status') },
    {
      label: 'Started by',
      render: (c) => {
        const t = taskById.get(Number(c.parent_task_id));
        if (!c.parent_task_id) return h('span', { class: 'muted' }, '—');
        return h('a', { href: `#/tasks/${seg(c.parent_task_id)}`, class: 'subtle-link', testid: 'child-task-link' },
          t ? `${taskName(t, def)} (#${t.id})` : `task #${c.parent_task_id}`);
      },
    },
  ];
  return h('section', { class: 'panel panel-flush', 'aria-labelledby': 'children-title', testid: 'process-children' },
    h('h2', { class: 'panel-title panel-title-pad', id: 'children-title' },
      `Child processes (${children.length}${open ? `, ${open} running` : ''})`),
    table({
      columns,
      rows: children,
      caption: 'Processes started by this one',
      testid: 'children-table',
      rowAttrs: (c) => ({ testid: 'child-row', 'data-process-id': c.id, 'data-status': statusKey(c.status), 'data-flow': c.flow }),
    }));
}

export async function processListView(ctx) {
  const path = '/processes';
  const params = { ...listParams(ctx.query, ['flow', 'status', 'after']), ...searchParams(ctx.query) };
  const [flows, res] = await Promise.all([
    getFlows().catch(() => []),
    api.get('/api/processes', params),
  ]);
  const sfields = await searchFields(flows);
  if (!ctx.alive()) return;
  const items = (res && res.items) || [];
  const titles = new Map(flows.map((f) => [f.name, f.title || f.name]));
  document.title = 'Processes · flowhost';

  const columns = [
    { label: '#', class: 'col-id', render: (p) => h('a', { href: `#/processes/${seg(p.id)}` }, `#${p.id}`) },
    {
      label: 'Process', class: 'col-main',
      render: (p) => [
        h('a', { href: `#/processes/${seg(p.id)}`, class: 'row-link', testid: 'process-link' }, p.summary || `Process #${p.id}`),
        p.parent && p.parent.process_id ? h('span', { class: 'row-note', testid: 'process-parent-note' },
          'Part of ', h('a', { href: `#/processes/${seg(p.parent.process_id)}`, class: 'subtle-link' }, `process #${p.parent.process_id}`)) : null,
      ],
    },
    { label: 'Flow', render: (p) => titles.get(p.flow) || p.flow },
    { label: 'Status', render: (p) => badge(p.status) },
    { label: 'Started by', render: (p) => p.created_by || h('span', { class: 'muted' }, '—') },
    { label: 'Created', class: 'col-age', render: (p) => timeEl(p.created_at) },
    { label: 'Finished', render: (p) => timeEl(p.finished_at) },
  ];
  const filtered = ['flow', 'status'].some((k) => ctx.query.get(k)) || Object.keys(searchParams(ctx.query)).length > 0;
  ctx.mount(
    pageHeader('Processes', { sub: 'Processes you started or took part in; managers see every process of their flows. Newest first.' }),
    searchBox({ path, query: ctx.query, fields: sfields }),
    filterBar({ path, query: ctx.query, flows: touchableFlows(flows, user(), [...items.map((p) => p.flow), ctx.query.get('flow')]), dates: false, statuses: PROCESS_STATUSES, extra: searchHidden(ctx.query) }),
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
