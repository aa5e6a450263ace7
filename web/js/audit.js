// What changed in a process's data, by whom, when (issue 15): GET /api/processes/{id}/audit,
// one entry per start, execute or automatic step that changed the data, oldest first.

import * as api from './api.js';
import { h, setContent, timeEl, formatValue } from './dom.js';
import { seg } from './router.js';

function valueText(v, field) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  return typeof v === 'object' ? JSON.stringify(v) : formatValue(v, field);
}

function auditItem(a, def) {
  const fields = (def && def.fields) || [];
  const node = def && def.nodes && def.nodes.find((n) => n.name === a.node);
  return h('li', { class: 'audit-entry', testid: 'audit-entry', 'data-node': a.node || '' },
    h('p', { class: 'audit-head' },
      h('strong', null, a.user || 'the system'), ' · ', timeEl(a.at),
      a.node ? [' · ', a.task_id != null ? h('a', { href: `#/tasks/${seg(a.task_id)}`, class: 'subtle-link' },
        (node && node.title) || a.node) : a.node] : null),
    h('ul', { class: 'audit-changes' }, (a.changes || []).map((c) => {
      const f = fields.find((x) => x.name === c.field);
      return h('li', { testid: 'audit-change', 'data-field': c.field },
        h('span', { class: 'audit-field' }, (f && f.label) || c.field), ': ',
        valueText(c.old, f), ' → ', valueText(c.new, f));
    })));
}

/** The "Changes" panel of a process page; loads itself. */
export function auditPanel(processId, def) {
  const list = h('ul', { class: 'audit-list', testid: 'audit-list' });
  const panel = h('section', { class: 'panel audit-panel', 'aria-labelledby': 'audit-title', testid: 'audit-panel' },
    h('h2', { class: 'panel-title', id: 'audit-title' }, 'Changes to the data'), list);
  api.get(`/api/processes/${seg(processId)}/audit`).then((res) => {
    const items = (res && res.items) || [];
    setContent(list, items.length ? items.map((a) => auditItem(a, def)) : h('li', { class: 'muted' }, 'No changes recorded.'));
  }).catch((e) => setContent(list, h('li', { class: 'muted' }, api.describeError(e, 'load the changes'))));
  return panel;
}
