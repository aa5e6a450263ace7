// External tasks (flow.External): done by a worker outside the host that fetches them over
// HTTP.  The task page shows their topic, the worker holding the lease, until when, and the
// failed attempts so far; people do not work on them (a manager may cancel or revive).

import { h, timeEl, fullTime } from './dom.js';
import { STATUS } from './status.js';

/** Whether the task is an external task (its JSON carries `external`). */
export function isExternal(task) {
  return !!(task && task.type === 'external' && task.external);
}

/** The panel of an external task: topic, worker, lease until, attempts (null for other tasks). */
export function externalPanel(task, status) {
  if (!isExternal(task)) return null;
  const x = task.external;
  const waiting = status === STATUS.SCHEDULED;
  const fact = (label, value, testid) => [h('dt', null, label), h('dd', { testid }, value)];
  let lead;
  if (!waiting) lead = 'Done by a worker outside the host.';
  else if (x.worker) lead = ['Worker ', h('code', null, x.worker), ' is working on it.'];
  else lead = `Waiting for a worker to fetch it (topic “${x.topic}”).`;
  return h('section', { class: 'panel event-panel external-panel', 'aria-labelledby': 'external-title', testid: 'external-panel', 'data-status': status },
    h('h2', { class: 'panel-title', id: 'external-title' }, 'External task'),
    h('p', { class: 'event-lead', testid: 'external-lead' }, lead),
    h('dl', { class: 'facts' },
      fact('Topic', h('code', null, x.topic), 'external-topic'),
      fact('Worker', x.worker || h('span', { class: 'muted' }, 'none'), 'external-worker'),
      fact('Lease until', x.lease_until ? [timeEl(x.lease_until), h('span', { class: 'muted small due-abs' }, fullTime(x.lease_until))]
        : h('span', { class: 'muted' }, '—'), 'external-lease'),
      fact('Attempts', String(x.attempts || 0), 'external-attempts')),
    waiting ? h('p', { class: 'muted small' },
      `Workers holding the permission external.${x.topic} fetch it with POST /api/external/fetch and answer with `,
      h('code', null, 'complete'), ' or ', h('code', null, 'fail'), '.') : null);
}
