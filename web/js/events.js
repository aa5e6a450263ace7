// The event model in words: what a Receive task waits for, boundary timeouts
// (task rows of type "timeout"), and a sentence for each node of a flow definition
// (terminate, first-wins, partial joins, messages, signals, cancel regions, due dates).

import { STATUS, statusKey } from './status.js';
import { composeDetails } from './compose.js';

/** Task types that are not work for a person: the engine runs or completes them. */
export const TASK_TYPE = Object.freeze({ RECEIVE: 'receive', TIMEOUT: 'timeout' });

export function isTimeout(task) { return !!task && task.type === TASK_TYPE.TIMEOUT; }
export function isReceive(task) { return !!task && task.type === TASK_TYPE.RECEIVE; }

function nodeOf(def, name) {
  return def && Array.isArray(def.nodes) ? def.nodes.find((n) => n.name === name) : null;
}

/** A node's title from the definition, else its name. */
export function nodeTitle(def, name) {
  const n = nodeOf(def, name);
  return (n && n.title) || name;
}

/** "message payment, key A-17" / "signal bell" from a waits_for object (or a node), or null. */
export function eventWords(w) {
  if (!w || typeof w !== 'object') return null;
  if (w.signal != null && w.signal !== '') return `signal ${w.signal}`;
  if (w.message != null && w.message !== '') {
    return `message ${w.message}${w.key != null && w.key !== '' ? `, key ${w.key}` : ''}`;
  }
  return null;
}

/** "Waiting for message payment, key A-17" (or "Received …" once done), or null. */
export function waitsForText(task) {
  const what = eventWords(task && task.waits_for);
  if (!what) return null;
  const st = statusKey(task.status);
  if (st === STATUS.DONE) return `Received ${what}`;
  if (st === STATUS.CANCELED) return `Stopped waiting for ${what}`;
  return `Waiting for ${what}`;
}

/** "Timeout of Approve → Escalated" for a timeout row (titles from def when given). */
export function timeoutLabel(task, def) {
  const t = (task && task.timeout) || {};
  const guarded = nodeOf(def, task.node);
  const guardTitle = (guarded && guarded.title) || task.title || task.node;
  return `Timeout of ${guardTitle} → ${t.node ? nodeTitle(def, t.node) : '?'}`;
}

/** armed | fired | disarmed | failed | … : the state of a timeout row in one word. */
export function timeoutState(task) {
  switch (statusKey(task.status)) {
    case STATUS.SCHEDULED: return 'armed';
    case STATUS.DONE: return 'fired';
    case STATUS.CANCELED: return 'disarmed';
    case STATUS.ERROR: return 'failed';
    default: return String(task.status || '').toLowerCase() || 'unknown';
  }
}

/** What the timeout does when it fires. */
export function timeoutEffect(task) {
  const t = (task && task.timeout) || {};
  return t.interrupting === false ? 'runs beside the task, which stays open' : 'cancels the task it guards';
}

/** The timeout rows that guard a task (task.timeout.guards === id). */
export function timeoutsOf(tasks, id) {
  return (tasks || []).filter((t) => isTimeout(t) && t.timeout && Number(t.timeout.guards) === Number(id));
}

// ---------------------------------------------------------------- flow definitions

const TYPE_WORDS = Object.freeze({
  start: 'Start form',
  start_function: 'Start by program',
  view: 'Human task',
  handler: 'Handler',
  function: 'Function',
  job: 'Background job',
  external: 'External worker',
  timer: 'Timer',
  if: 'Decision',
  switch: 'Switch',
  split: 'Parallel split',
  join: 'Join',
  end: 'End',
  receive: 'Receive',
  send: 'Send',
  cancel: 'Cancel region',
  subprocess: 'Subprocess',
  foreach: 'Multiple instances',
  obsolete: 'Obsolete',
});

/** The kind of a node in words ("Receive", "Parallel split"). */
export function nodeTypeWord(type) {
  return TYPE_WORDS[type] || (type ? String(type).replace(/_/g, ' ') : 'Step');
}

/** A number of seconds in words: "45 s", "1 h", "1 h 30 min", "3 days". */
export function durationWords(seconds) {
  let s = Math.round(Number(seconds));
  if (!Number.isFinite(s) || s < 0) return null;
  if (s < 60) return `${s} s`;
  const units = [[86400, (n) => `${n} day${n === 1 ? '' : 's'}`], [3600, (n) => `${n} h`], [60, (n) => `${n} min`], [1, (n) => `${n} s`]];
  const parts = [];
  for (const [size, word] of units) {
    if (s >= size && parts.length < 2) {
      const n = Math.floor(s / size);
      parts.push(word(n));
      s -= n * size;
    } else if (parts.length) break; // "1 day 30 s" reads oddly: stop at the first gap
  }
  return parts.join(' ');
}

function fieldLabels(def, names) {
  const byName = new Map(((def && def.fields) || []).map((f) => [f.name, f]));
  return names.map((n) => (byName.get(n) && byName.get(n).label) || n);
}

/**
 * What a node of a flow definition does, beyond its kind: a list of short phrases
 * ("waits for message payment", "terminates the process", "first branch wins",
 * "waits for 2 of the branches; cancels the rest", "due 1 day after it starts", …).
 */
export function nodeDetails(node, def) {
  const out = [];
  if (!node) return out;
  switch (node.type) {
    case 'end':
      out.push(node.terminate ? 'terminates the process: every open branch is canceled' : 'ends its branch');
      break;
    case 'split':
      if (node.first) out.push('first branch wins: when a task of one branch completes, the other branches are canceled');
      else out.push('runs its branches in parallel');
      break;
    case 'join': {
      const n = Number(node.wait);
      if (node.wait === undefined || node.wait === null) break;
      if (!n) out.push('waits for all the branches');
      else {
        out.push(`waits for ${n} of the branches`);
        out.push(node.cancel_rest ? 'cancels the rest' : 'later branches end here');
      }
      break;
    }
    case 'receive': {
      const what = eventWords(node);
      if (what) out.push(`waits for ${what}`);
      if (node.transient) out.push('transient: only a message sent while it waits counts');
      if (Array.isArray(node.fields) && node.fields.length) {
        out.push(`stores ${fieldLabels(def, node.fields.map(String)).join(', ')} from it`);
      }
      break;
    }
    case 'send': {
      const what = eventWords(node);
      if (what) out.push(`sends ${what}`);
      break;
    }
    case 'external':
      if (node.topic) out.push(`done by a worker outside the host (topic ${node.topic})`);
      if (Array.isArray(node.fields) && node.fields.length) {
        out.push(`stores ${fieldLabels(def, node.fields.map(String)).join(', ')} from it`);
      }
      break;
    case 'cancel':
      if (node.region) out.push(`cancels what is still open in the branches of ${nodeTitle(def, node.region)}`);
      break;
    default:
      break;
  }
  out.push(...composeDetails(node));
  if ('due' in node) {
    out.push(node.due == null ? 'due date set by the flow' : `due ${durationWords(node.due)} after it starts`);
  }
  for (const t of Array.isArray(node.timeouts) ? node.timeouts : []) {
    const after = t.seconds == null ? 'after a time set by the flow' : `after ${durationWords(t.seconds)}`;
    out.push(t.interrupting === false
      ? `${after}: also starts ${nodeTitle(def, t.to)} (the task stays open)`
      : `${after}: cancels it and goes to ${nodeTitle(def, t.to)}`);
  }
  return out;
}
