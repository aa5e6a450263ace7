// Admin: tasks in ERROR across flows (GET /api/tasks?view=all&status=ERROR), with message
// and traceback, and revive / cancel.

import * as api from '../api.js';
import { h, timeEl, pageHeader, emptyState, badge } from '../dom.js';
import { STATUS } from '../status.js';
import { refresh, seg } from '../router.js';
import { getFlows } from '../flows-cache.js';
import { filterBar, listParams, pager } from '../list.js';
import { runTaskAction, actionButton, taskName } from '../actions.js';
import { adminTabs } from './admin-pages.js';

export async function adminView(ctx) {
  const path = '/admin';
  document.title = 'Admin · flowhost';
  const params = { view: 'all', status: STATUS.ERROR, ...listParams(ctx.query, ['flow', 'since', 'until', 'after']) };
  let res;
  try {
    res = await api.get('/api/tasks', params);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 403) {
      ctx.mount(
        pageHeader('Admin'),
        h('section', { class: 'panel', testid: 'admin-forbidden' },
          h('p', { class: 'empty-title' }, 'This page is for managers.'),
          h('p', null, 'Only administrators and managers of a flow can see and repair tasks in error. Ask an administrator if you need access.')));
      return;
    }
    throw e;
  }
  const flows = await getFlows().catch(() => []);
  const items = (res && res.items) || [];

  const cards = items.map((t) => {
    const act = (action) => actionButton(t, action, async (ev) => {
      const r = await runTaskAction(t, action, { button: ev.currentTarget });
      if (r) refresh();
    }, 'btn-small');
    return h('article', { class: 'card error-card', testid: 'error-task', 'data-task-id': t.id },
      h('div', { class: 'card-head' },
        h('h2', { class: 'card-title' },
          h('a', { href: `#/tasks/${seg(t.id)}` }, taskName(t)), ' ', h('span', { class: 'id-chip' }, `#${t.id}`)),
        badge(t.status)),
      h('p', { class: 'card-meta' },
        t.flow_title || t.flow, ' · ',
        h('a', { href: `#/processes/${seg(t.process_id)}` }, t.process_summary || `Process #${t.process_id}`),
        t.type === 'subprocess' && t.child_id != null ? [' · child ', h('a', { href: `#/processes/${seg(t.child_id)}`, testid: 'error-child-link' }, `process #${t.child_id}`)] : null,
        ' · ', timeEl(t.finished_at || t.started_at || t.created_at),
        t.attempts ? h('span', { testid: 'error-attempts' }, ` · ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}`) : null),
      h('pre', { class: 'error-message', testid: 'error-message' },
        (t.error && t.error.message) || 'No error message was recorded.'),
      t.error && t.error.traceback ? h('details', { class: 'traceback' },
        h('summary', null, 'Traceback'),
        h('pre', { testid: 'error-traceback' }, t.error.traceback)) : null,
      h('div', { class: 'card-actions', role: 'group', 'aria-label': `Actions for task #${t.id}` },
        act('revive'), act('cancel')));
  });

  ctx.mount(
    pageHeader('Admin', { sub: 'Tasks in error across all flows. Revive a task to run it again, or cancel it.' }),
    adminTabs('incidents'),
    filterBar({ path, query: ctx.query, flows }),
    items.length ? h('div', { class: 'error-list', testid: 'error-list' }, cards)
      : h('section', { class: 'panel' }, emptyState('No tasks in error.', 'Everything runs as it should.')),
    pager({ path, query: ctx.query, nextAfter: res && res.next_after, count: items.length }),
  );
}
