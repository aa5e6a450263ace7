// Inbox (ASSIGNED to me), Queue (NEW tasks I may take), Archive (finished tasks I owned),
// All tasks (managers: every task of the flows they manage, timeouts and receivers included).

import * as api from '../api.js';
import {
  h, badge, timeEl, dueEl, pageHeader, emptyState,
} from '../dom.js';
import { TASK_STATUSES } from '../status.js';
import { navigate, refresh, seg } from '../router.js';
import { getFlows, tryFlowDef } from '../flows-cache.js';
import { table, pager, filterBar, listParams } from '../list.js';
import { searchBox, searchFields, searchParams, searchHidden } from '../search.js';
import { touchableFlows } from '../flow-access.js';
import { durationEl, priorityEl } from '../format.js';
import { user } from '../session.js';
import { runTaskAction, taskName, taskTitle } from '../actions.js';
import { isTimeout, waitsForText, timeoutState } from '../events.js';
import {
  isController, isSubprocess, instanceItem, groupProgress, progressShort,
} from '../compose.js';

const VIEWS = {
  inbox: {
    title: 'Inbox',
    sub: 'Tasks assigned to you.',
    empty: ['Your inbox is empty.', 'Take a task from the queue, or start a new process.'],
    emptyAction: () => h('a', { class: 'btn', href: '#/queue' }, 'Open the queue'),
  },
  queue: {
    title: 'Queue',
    sub: 'Tasks waiting for someone with your permissions. Assign one to yourself to work on it.',
    empty: ['Nothing is waiting in the queue.', 'New tasks appear here when a process reaches a step you may take.'],
  },
  archive: {
    title: 'Archive',
    sub: 'Tasks you finished.',
    empty: ['Nothing in your archive yet.', 'Tasks you complete are kept here.'],
  },
  all: {
    title: 'All tasks',
    sub: 'Every task of the flows you manage: people\'s tasks, jobs, timers, timeouts and tasks waiting for a message.',
    empty: ['No tasks yet.', 'Tasks appear here as processes of your flows run.'],
    statuses: true,
  },
};

/** The definitions of the flows whose rows need node titles (timeouts name their target node). */
async function defsFor(items) {
  const names = [...new Set(items.filter(isTimeout).map((t) => t.flow))];
  const defs = await Promise.all(names.map((n) => tryFlowDef(n)));
  return new Map(names.map((n, i) => [n, defs[i]]));
}

/** The task cell of a list row: link, id, and what a receiver waits for / a timeout's state. */
export function taskCell(t, def) {
  const waits = waitsForText(t);
  const item = instanceItem(t);
  return [
    h('a', { href: `#/tasks/${seg(t.id)}`, class: 'row-link', testid: 'task-link' },
      taskTitle(t, def),
      // an instance of a :ForEach group: its item beside the title ("Approve the order · bob")
      item !== '' ? h('span', { class: 'instance-item', testid: 'task-item' }, ` · ${item}`) : null,
      h('span', { class: 'id-chip' }, `#${t.id}`)),
    waits ? h('span', { class: 'row-note row-note-event', testid: 'waits-for' }, waits) : null,
    isController(t) ? h('span', { class: 'row-note', testid: 'group-progress' },
      `Group of ${Number((t.data || {}).total) || 0} · ${progressShort(groupProgress(t))}`) : null,
    isSubprocess(t) && t.child_id != null ? h('span', { class: 'row-note' },
      'Runs ', h('a', { href: `#/processes/${seg(t.child_id)}`, class: 'subtle-link', testid: 'child-link' }, `process #${t.child_id}`)) : null,
    isTimeout(t) ? h('span', { class: 'row-note', testid: 'timeout-state' },
      `${timeoutState(t)} · ${t.timeout && t.timeout.interrupting === false ? 'non-interrupting' : 'interrupting'}`) : null,
  ];
}

export function taskListView(view) {
  return async (ctx) => {
    const conf = VIEWS[view];
    const path = `/${view}`;
    // the archive sorts by created or finished; every list keeps its filters in the URL
    const sorts = view === 'archive' ? ['created_at', 'finished_at', '-finished_at', 'due_at'] : ['created_at', 'due_at'];
    const sort = sorts.includes(ctx.query.get('sort')) ? ctx.query.get('sort') : '-created_at';
    const keys = ['flow', 'since', 'until', 'after', ...(conf.statuses ? ['status'] : []),
      ...(view === 'archive' ? ['finished_since', 'finished_until'] : [])];
    const params = { view, ...listParams(ctx.query, keys) };
    if (sort !== '-created_at') params.sort = sort;
    Object.assign(params, searchParams(ctx.query));

    let flows; let res;
    try {
      [flows, res] = await Promise.all([
        getFlows().catch(() => []),
        api.get('/api/tasks', params),
      ]);
    } catch (e) {
      if (view === 'all' && e instanceof api.ApiError && e.status === 403) {
        document.title = `${conf.title} · flowhost`;
        ctx.mount(
          pageHeader(conf.title),
          h('section', { class: 'panel', testid: 'all-forbidden' },
            h('p', { class: 'empty-title' }, 'This page is for managers.'),
            h('p', null, 'Only administrators and managers of a flow see every task. Your own tasks are in your inbox and archive.')));
        return;
      }
      throw e;
    }
    const items = (res && res.items) || [];
    const [defs, sfields] = await Promise.all([defsFor(items), searchFields(flows)]);
    if (!ctx.alive()) return;

    const sortBy = (value) => {
      const q = new URLSearchParams(ctx.query);
      q.delete('after');
      if (value === '-created_at') q.delete('sort'); else q.set('sort', value);
      navigate(path, q);
    };
    const toggleSort = () => sortBy(sort === '-created_at' ? 'created_at' : '-created_at');
    const toggleFinished = () => sortBy(sort === '-finished_at' ? 'finished_at' : '-finished_at');
    const finishedDir = sort === 'finished_at' ? 'asc' : sort === '-finished_at' ? 'desc' : null;
    const createdDir = sort === 'created_at' ? 'asc' : sort === '-created_at' ? 'desc' : null;

    const columns = [
      {
        label: 'Task',
        class: 'col-main',
        render: (t) => taskCell(t, defs.get(t.flow)),
      },
      { label: 'Flow', render: (t) => t.flow_title || t.flow },
      {
        label: 'Process',
        render: (t) => h('a', { href: `#/processes/${seg(t.process_id)}`, class: 'subtle-link' },
          t.process_summary || `Process #${t.process_id}`),
      },
      { label: 'Status', render: (t) => badge(t.status) },
    ];
    // due dates (and the run time of scheduled jobs, timers, timeouts): a column when any row has one
    if (items.some((t) => t.due_at)) {
      columns.push({
        label: 'Due',
        class: 'col-due',
        render: (t) => dueEl(t),
        // earliest due first (API sort=due_at), tasks without one last
        sort: { dir: sort === 'due_at' ? 'asc' : null, onToggle: () => sortBy(sort === 'due_at' ? '-created_at' : 'due_at'), testid: 'sort-due' },
      });
    }
    // a priority where any row has one (:Priority of the node)
    if (items.some((t) => t.priority)) {
      columns.push({ label: 'Priority', class: 'col-priority', render: (t) => priorityEl(t) });
    }
    if (view === 'all') {
      columns.push({ label: 'Owner', render: (t) => t.owner || h('span', { class: 'muted' }, '—') });
    }
    if (view === 'archive') {
      columns.push({
        label: 'Finished',
        render: (t) => timeEl(t.finished_at),
        sort: { dir: finishedDir, onToggle: toggleFinished, testid: 'sort-finished' },
      });
      columns.push({ label: 'Took', render: (t) => durationEl(t.created_at, t.finished_at, { testid: 'task-took' }) });
    }
    columns.push({
      label: view === 'archive' ? 'Created' : 'Age',
      class: 'col-age',
      render: (t) => timeEl(t.created_at),
      sort: { dir: createdDir, onToggle: toggleSort, testid: 'sort-created' },
    });
    if (view === 'queue') {
      columns.push({
        label: 'Action',
        class: 'col-action',
        render: (t) => h('button', {
          type: 'button', class: 'btn btn-soft btn-small', testid: 'queue-assign',
          onClick: async (ev) => {
            const rowsBefore = [...document.querySelectorAll('[data-testid=queue-assign]')];
            const index = rowsBefore.indexOf(ev.currentTarget);
            const res = await runTaskAction(t, 'assign', { button: ev.currentTarget, openLink: true });
            if (!res) return;
            await refresh();
            // keyboard users can go on down the queue: focus the button now in the same place
            const rowsAfter = document.querySelectorAll('[data-testid=queue-assign]');
            const next = rowsAfter[Math.min(index, rowsAfter.length - 1)];
            if (next) next.focus();
          },
        }, 'Assign to me', h('span', { class: 'sr-only' }, `: ${taskName(t)} #${t.id}`)),
      });
    }

    const filtered = ['flow', 'status', 'since', 'until', 'finished_since', 'finished_until'].some((k) => ctx.query.get(k))
      || Object.keys(searchParams(ctx.query)).length > 0;
    const body = items.length
      ? table({
        columns,
        rows: items,
        caption: conf.title,
        testid: `${view}-table`,
        rowAttrs: (t) => ({ testid: 'task-row', 'data-task-id': t.id, 'data-status': t.status }),
      })
      : (filtered
        ? emptyState('No tasks match these filters.', 'Change or clear the filters to see more.')
        : emptyState(conf.empty[0], conf.empty[1], conf.emptyAction ? conf.emptyAction() : null));

    document.title = `${conf.title} · flowhost`;
    ctx.mount(
      pageHeader(conf.title, { sub: conf.sub }),
      searchBox({ path, query: ctx.query, fields: sfields }),
      filterBar({
        path,
        query: ctx.query,
        flows: touchableFlows(flows, user(), [...items.map((t) => t.flow), ctx.query.get('flow')]),
        statuses: conf.statuses ? TASK_STATUSES : null,
        finished: view === 'archive',
        extra: searchHidden(ctx.query),
      }),
      h('section', { class: 'panel panel-flush', 'aria-label': `${conf.title} tasks`, testid: `${view}-list` }, body),
      pager({ path, query: ctx.query, nextAfter: res && res.next_after, count: items.length }),
    );
  };
}
