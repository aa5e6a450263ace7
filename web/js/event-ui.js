// DOM pieces of the event model shared by the task and process pages: a list of
// boundary timeouts (armed, fired, disarmed) and the "waiting for" line of a receiver.

import { h, timeEl, dueEl, fullTime } from './dom.js';
import { statusKey, STATUS } from './status.js';
import { seg } from './router.js';
import {
  timeoutLabel, timeoutState, waitsForText, nodeTitle,
} from './events.js';

/** One timeout row in words: its label, its state with the time, what it does. */
export function timeoutItem(t, def, { showGuard = true, tasks = [] } = {}) {
  const state = timeoutState(t);
  const target = t.timeout && t.timeout.node ? nodeTitle(def, t.timeout.node) : '?';
  let when;
  if (state === 'armed') {
    when = [' ', dueEl(t, 'timeout-due'), t.due_at ? h('span', { class: 'muted small' }, ` (${fullTime(t.due_at)})`) : null];
  } else if (state === 'fired' || state === 'disarmed') {
    when = [' ', timeEl(t.finished_at)];
  } else when = null;
  const guards = t.timeout && t.timeout.guards;
  const interrupting = !(t.timeout && t.timeout.interrupting === false);
  const guard = guards ? tasks.find((x) => Number(x.id) === Number(guards)) : null;
  const guardOpen = !!guard && OPEN.has(statusKey(guard.status));
  return h('li', {
    class: `event-item timeout-item timeout-${state}`, testid: 'timeout-item',
    'data-task-id': t.id, 'data-state': state, 'data-status': statusKey(t.status),
    'data-node': t.node, 'data-target': t.timeout && t.timeout.node,
  },
  h('span', { class: `event-state event-state-${state}`, testid: 'timeout-state' }, state),
  ' ',
  h('a', { href: `#/tasks/${seg(t.id)}`, class: 'event-link', testid: 'timeout-link' }, timeoutLabel(t, def)),
  when,
  h('span', { class: 'event-note' }, timeoutNote(state, interrupting, target, guardOpen),
    showGuard && guards ? [' Guards ', h('a', { href: `#/tasks/${seg(guards)}` }, `task #${guards}`), '.'] : null));
}

const OPEN = new Set([STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED, STATUS.ERROR]);

/** Whether a task may still change (a timeout guarding it can still matter). */
export function isOpen(task) { return !!task && OPEN.has(statusKey(task.status)); }

function timeoutNote(state, interrupting, target, guardOpen) {
  switch (state) {
    case 'armed': return interrupting
      ? ` When it fires, it cancels the task and goes on to ${target}.`
      : ` When it fires, it starts ${target}; the task stays open.`;
    case 'fired': return interrupting
      ? ` It canceled the task and went on to ${target}.`
      : ` It started ${target} beside the task.`;
    case 'disarmed': return guardOpen ? ' It was canceled and will not fire; the task is still open.' : ' The task it guarded ended first.';
    default: return '';
  }
}

/** A list of timeout rows, armed first, then by id. */
export function timeoutList(timeouts, def, opts = {}) {
  const order = { armed: 0, failed: 1, fired: 2, disarmed: 3 };
  const rows = timeouts.slice().sort((a, b) => (order[timeoutState(a)] ?? 9) - (order[timeoutState(b)] ?? 9)
    || Number(a.id) - Number(b.id));
  return h('ul', { class: 'event-list', testid: opts.testid || 'timeout-list' }, rows.map((t) => timeoutItem(t, def, opts)));
}

/** "Waiting for message payment, key A-17" as a list item of the process page. */
export function waitItem(t, def) {
  const text = waitsForText(t);
  return h('li', {
    class: 'event-item wait-item', testid: 'wait-item', 'data-task-id': t.id, 'data-status': statusKey(t.status), 'data-node': t.node,
  },
  h('span', { class: 'event-state event-state-waiting' }, statusKey(t.status) === STATUS.DONE ? 'received' : 'waiting'),
  ' ',
  h('a', { href: `#/tasks/${seg(t.id)}`, class: 'event-link' }, t.title || nodeTitle(def, t.node)),
  ': ',
  h('span', { testid: 'waits-for' }, text),
  t.started_at ? [' · since ', timeEl(t.started_at)] : null,
  t.due_at ? [' · ', dueEl(t)] : null);
}
