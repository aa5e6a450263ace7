// Task transitions (flow-dsl.md): assign, unassign, reassign, execute, cancel, undo, revive.
// One place for their labels, the confirmation of destructive ones, the call and the
// message that tells the user what happened.

import * as api from './api.js';
import { h, confirmDialog, flash, flashError, setBusy } from './dom.js';
import { STATUS, statusKey } from './status.js';
import { refreshCounts } from './counts.js';
import { username } from './session.js';
import { seg } from './router.js';
import { isTimeout, timeoutLabel } from './events.js';
import { isController, isSubprocess, instanceItem } from './compose.js';

export const ACTION_ORDER = ['assign', 'execute', 'unassign', 'reassign', 'revive', 'undo', 'cancel'];

export const ACTION_LABELS = {
  assign: 'Assign to me',
  unassign: 'Unassign',
  reassign: 'Reassign',
  execute: 'Complete',
  cancel: 'Cancel task',
  undo: 'Undo',
  revive: 'Revive',
};

const VERBS = {
  assign: 'assign the task', unassign: 'unassign the task', reassign: 'reassign the task',
  execute: 'complete the task', cancel: 'cancel the task', undo: 'undo the task', revive: 'revive the task',
};

/** A task's title alone (no instance item); a timeout row reads "Timeout of Approve → Escalated". */
export function taskTitle(task, def) {
  if (isTimeout(task) && task.timeout) return timeoutLabel(task, def);
  return task.title || task.node || `Task #${task.id}`;
}

/**
 * How a task is named in the UI: its title, and for an instance of a :ForEach group
 * its item too ("Approve the order · bob"); titles of timeouts from def.
 */
export function taskName(task, def) {
  const item = instanceItem(task);
  return item !== '' ? `${taskTitle(task, def)} · ${item}` : taskTitle(task, def);
}

function confirmation(action, task, def) {
  const name = `“${taskName(task, def)}” (#${task.id})`;
  if (action === 'cancel' && isTimeout(task)) {
    return {
      title: 'Disarm this timeout?',
      message: `${name} will be canceled and will not fire; the task it guards stays as it is.`,
      confirmLabel: 'Disarm timeout',
      cancelLabel: 'Keep it armed',
    };
  }
  if (action === 'cancel' && isController(task)) {
    return {
      title: 'Cancel this group?',
      message: `${name} and every one of its instances still open will be canceled, and the process will not continue from here unless a manager revives it.`,
      confirmLabel: 'Cancel group',
      cancelLabel: 'Keep it running',
    };
  }
  if (action === 'cancel' && isSubprocess(task) && task.child_id != null && statusKey(task.status) === STATUS.STARTED) {
    return {
      title: 'Cancel this subprocess?',
      message: `${name} will be canceled together with its child process #${task.child_id} (and the processes that one started). Work in them is lost.`,
      confirmLabel: 'Cancel subprocess',
      cancelLabel: 'Keep it running',
    };
  }
  if (action === 'cancel') {
    return {
      title: 'Cancel this task?',
      message: `${name} will be canceled. Anything not yet submitted is lost, and the process will not continue from this task unless a manager revives it.`,
      confirmLabel: 'Cancel task',
      cancelLabel: 'Keep task',
    };
  }
  if (action === 'undo') {
    return {
      title: 'Undo this task?',
      message: `${name} is done; undoing it cancels it and discards its result. A manager can revive it afterwards.`,
      confirmLabel: 'Undo task',
      cancelLabel: 'Keep it',
    };
  }
  return null;
}

/** Links to tasks created by an action that now wait for the current user. */
export function nextForMe(tasks) {
  const me = username();
  return (tasks || []).filter((t) => t && t.owner === me && statusKey(t.status) === STATUS.ASSIGNED);
}

export function taskLinks(tasks) {
  return tasks.map((t, i) => [i ? ', ' : '', h('a', { href: `#/tasks/${seg(t.id)}`, testid: 'next-task-link' }, `${taskName(t)} (#${t.id})`)]);
}

function successMessage(action, task, res, extra) {
  const name = `“${taskName(task, extra && extra.def)}”`;
  const created = (res && res.tasks) || [];
  let msg;
  switch (action) {
    case 'assign': msg = `${name} is now assigned to you.`; break;
    case 'unassign': msg = `${name} is back in the queue.`; break;
    case 'reassign': msg = `${name} is now assigned to ${extra && extra.user}.`; break;
    case 'execute': msg = `${name} is done.`; break;
    case 'cancel': msg = isTimeout(task) ? `${name} was disarmed.` : `${name} was canceled.`; break;
    case 'undo': msg = `${name} was undone.`; break;
    case 'revive': {
      const fresh = created.find((t) => t.node === task.node) || created[0];
      if (fresh) {
        return [`${name} was revived as `, h('a', { href: `#/tasks/${seg(fresh.id)}`, testid: 'revived-task-link' }, `task #${fresh.id}`), '.'];
      }
      msg = `${name} was revived.`;
      break;
    }
    default: msg = `${name}: ${action} done.`;
  }
  const mine = nextForMe(created).filter((t) => t.id !== task.id);
  const parts = [msg];
  if (mine.length) parts.push(' Next for you: ', taskLinks(mine), '.');
  if (extra && extra.openLink) parts.push(' ', h('a', { href: `#/tasks/${seg(task.id)}`, testid: 'open-task-link' }, 'Open it'), '.');
  return parts;
}

/**
 * runTaskAction(task, action, {body, button, confirm, onInvalid, keepFlash, openLink, def})
 * (def: the flow definition, for the titles in the messages)
 * Resolves to the API response, or null when declined or failed (the failure is flashed,
 * except `invalid` errors when onInvalid is given: it receives the ApiError).
 */
export async function runTaskAction(task, action, opts = {}) {
  const ask = opts.confirm !== false ? confirmation(action, task, opts.def) : null;
  if (ask && !(await confirmDialog(ask))) return null;
  setBusy(opts.button, true);
  try {
    const res = await api.post(`/api/tasks/${seg(task.id)}/${action}`, opts.body || {});
    refreshCounts();
    flash(successMessage(action, task, res, { user: opts.body && opts.body.user, openLink: opts.openLink, def: opts.def }),
      'success', { keep: !!opts.keepFlash });
    return res;
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 401) return null; // sent to the login page
    if (e instanceof api.ApiError && e.code === 'invalid' && opts.onInvalid) {
      opts.onInvalid(e);
      return null;
    }
    flashError(api.describeError(e, VERBS[action] || action));
    if (opts.onError) opts.onError(e);
    return null;
  } finally {
    if (opts.button && opts.button.isConnected) setBusy(opts.button, false);
  }
}

export function actionButton(task, action, onClick, extraClass = '') {
  const kind = action === 'cancel' || action === 'undo' ? 'btn-danger-outline'
    : action === 'execute' || action === 'assign' ? 'btn-primary' : '';
  return h('button', {
    type: 'button', class: `btn ${kind} ${extraClass}`.trim(), testid: `action-${action}`, 'data-action': action,
    onClick,
  }, actionLabel(task, action));
}

/** The label of an action's button: a timeout is disarmed, a group or a subprocess canceled as such. */
export function actionLabel(task, action) {
  if (action === 'cancel' && isTimeout(task)) return 'Disarm timeout';
  if (action === 'cancel' && isController(task)) return 'Cancel group';
  if (action === 'cancel' && isSubprocess(task)) return 'Cancel subprocess';
  return ACTION_LABELS[action] || action;
}
