// Inbox (ASSIGNED to me), Queue (NEW tasks I may take), Archive (finished tasks I owned).

import * as api from '../api.js';
import { h, badge, timeEl, pageHeader, emptyState } from '../dom.js';
import { navigate, refresh, seg } from '../router.js';
import { getFlows } from '../flows-cache.js';
import { table, pager, filterBar, listParams } from '../list.js';
import { runTaskAction, taskName } from '../actions.js';

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
};

export function taskListView(view) {
  return async (ctx) => {
    const conf = VIEWS[view];
    const path = `/${view}`;
    const sort = ctx.query.get('sort') === 'created_at' ? 'created_at' : '-created_at';
    const params = { view, ...listParams(ctx.query, ['flow', 'since', 'until', 'after']) };
    if (sort !== '-created_at') params.sort = sort;

    const [flows, res] = await Promise.all([
      getFlows().catch(() => []),
      api.get('/api/tasks', params),
    ]);
    const items = (res && res.items) || [];

    const toggleSort = () => {
      const q = new URLSearchParams(ctx.query);
      q.delete('after');
      if (sort === '-created_at') q.set('sort', 'created_at'); else q.delete('sort');
      navigate(path, q);
    };

    const columns = [
      {
        label: 'Task',
        class: 'col-main',
        render: (t) => h('a', { href: `#/tasks/${seg(t.id)}`, class: 'row-link', testid: 'task-link' },
          taskName(t), h('span', { class: 'id-chip' }, `#${t.id}`)),
      },
      { label: 'Flow', render: (t) => t.flow_title || t.flow },
      {
        label: 'Process',
        render: (t) => h('a', { href: `#/processes/${seg(t.process_id)}`, class: 'subtle-link' },
          t.process_summary || `Process #${t.process_id}`),
      },
      { label: 'Status', render: (t) => badge(t.status) },
    ];
    if (view === 'archive') {
      columns.push({ label: 'Finished', render: (t) => timeEl(t.finished_at) });
    }
    columns.push({
      label: view === 'archive' ? 'Created' : 'Age',
      class: 'col-age',
      render: (t) => timeEl(t.created_at),
      sort: { dir: sort === 'created_at' ? 'asc' : 'desc', onToggle: toggleSort, testid: 'sort-created' },
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

    const filtered = ['flow', 'since', 'until'].some((k) => ctx.query.get(k));
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
      filterBar({ path, query: ctx.query, flows }),
      h('section', { class: 'panel panel-flush', 'aria-label': `${conf.title} tasks`, testid: `${view}-list` }, body),
      pager({ path, query: ctx.query, nextAfter: res && res.next_after, count: items.length }),
    );
  };
}
