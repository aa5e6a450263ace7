// Composition in words: subprocesses (a task of type "subprocess" runs a child process,
// "child_id") and multiple instances (:ForEach — a controller task of type "foreach"
// with data {items, total, next, done}, and one task per item with "group_id" and data
// {item, index}). Pure functions over the API's task and process objects; no DOM here.

import { STATUS, statusKey } from './status.js';

export const COMPOSE_TYPE = Object.freeze({ FOREACH: 'foreach', SUBPROCESS: 'subprocess' });

/** The controller task of a :ForEach group (not work for anybody: the engine runs it). */
export function isController(task) { return !!task && task.type === COMPOSE_TYPE.FOREACH; }

/** One instance of a :ForEach group (a task of the node's own type with a group). */
export function isInstance(task) {
  return !!task && !isController(task) && task.group_id != null && task.group_id !== '';
}

/** A Subprocess task: it waits while its child process runs. */
export function isSubprocess(task) { return !!task && task.type === COMPOSE_TYPE.SUBPROCESS; }

/** The item of an instance as short text: "bob", "42", a record's name, else compact JSON. */
export function itemText(item) {
  if (item === undefined || item === null) return '';
  if (typeof item === 'string') return item;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  if (typeof item === 'object' && !Array.isArray(item)) {
    for (const k of ['title', 'name', 'label', 'id', 'key']) {
      const v = item[k];
      if (typeof v === 'string' || typeof v === 'number') return String(v);
    }
  }
  let s;
  try { s = JSON.stringify(item); } catch { s = String(item); }
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** The item of an instance task as text ('' for other tasks). */
export function instanceItem(task) {
  if (!isInstance(task) || !task.data || typeof task.data !== 'object') return '';
  return itemText(task.data.item);
}

/** The 1-based index of an instance (null when unknown). */
export function instanceIndex(task) {
  const i = task && task.data && Number(task.data.index);
  return Number.isFinite(i) && i > 0 ? i : null;
}

/** The controller of an instance among the process's tasks (or null). */
export function controllerOf(task, tasks) {
  if (!isInstance(task)) return null;
  return (tasks || []).find((t) => Number(t.id) === Number(task.group_id) && isController(t)) || null;
}

/** The instances of a controller, in item order (a revived item's newer task after the older). */
export function instancesOf(controller, tasks) {
  return (tasks || [])
    .filter((t) => isInstance(t) && Number(t.group_id) === Number(controller.id))
    .sort((a, b) => (instanceIndex(a) ?? 1e9) - (instanceIndex(b) ?? 1e9) || Number(a.id) - Number(b.id));
}

function total(controller, instances) {
  const d = (controller && controller.data) || {};
  const n = Number(d.total);
  if (Number.isFinite(n) && n >= 0) return n;
  if (Array.isArray(d.items)) return d.items.length;
  return new Set(instances.map((t) => instanceIndex(t) ?? `#${t.id}`)).size;
}

/**
 * The progress of a group: {total, done, canceled, error, open, waiting}. With the
 * process's tasks, each item counts by its latest task (a revived instance replaces
 * the failed one); without them (a list row), from the controller's own data.
 */
export function groupProgress(controller, tasks) {
  const instances = tasks ? instancesOf(controller, tasks) : [];
  const n = total(controller, instances);
  if (!tasks) {
    const done = Number((controller.data || {}).done) || 0;
    return { total: n, done, canceled: 0, error: 0, open: 0, waiting: 0, counted: false };
  }
  const latest = new Map();
  for (const t of instances) {
    const key = instanceIndex(t) ?? `#${t.id}`;
    const prev = latest.get(key);
    if (!prev || Number(t.id) > Number(prev.id)) latest.set(key, t);
  }
  const p = { total: n, done: 0, canceled: 0, error: 0, open: 0, waiting: 0, counted: true };
  for (const t of latest.values()) {
    const st = statusKey(t.status);
    if (st === STATUS.DONE) p.done += 1;
    else if (st === STATUS.CANCELED || st === STATUS.REVIVED) p.canceled += 1;
    else if (st === STATUS.ERROR) p.error += 1;
    else p.open += 1;
  }
  // a sequential group (parallel = false) creates its instances one after another
  const groupOpen = [STATUS.STARTED, STATUS.NEW, STATUS.SCHEDULED].includes(statusKey(controller.status));
  p.waiting = groupOpen ? Math.max(0, n - latest.size) : 0;
  return p;
}

/** "2 of 3 done" — the short form (chart badge, list rows). */
export function progressShort(p) {
  return `${p.done} of ${p.total} done`;
}

/** "2 of 3 done, 1 canceled" — with what else happened to the items. */
export function progressText(p) {
  const parts = [progressShort(p)];
  if (p.canceled) parts.push(`${p.canceled} canceled`);
  if (p.error) parts.push(`${p.error} in error`);
  if (p.open) parts.push(`${p.open} open`);
  if (p.waiting) parts.push(`${p.waiting} to come`);
  return parts.join(', ');
}

/** "Instance 2 of 3: bob" for an instance task (total from its controller when known). */
export function instanceText(task, tasks) {
  const c = controllerOf(task, tasks);
  const i = instanceIndex(task);
  const n = c ? total(c, instancesOf(c, tasks)) : null;
  const item = instanceItem(task);
  return `Instance ${i ?? '?'}${n != null ? ` of ${n}` : ''}${item !== '' ? `: ${item}` : ''}`;
}

/** The child process entry of a Subprocess task from a process's "children" (or null). */
export function childOf(task, children) {
  if (!task || task.child_id == null) return null;
  return (children || []).find((c) => Number(c.id) === Number(task.child_id)) || { id: task.child_id };
}

/**
 * What a node of a flow definition does about composition, as short phrases
 * (the flows page's step list): the child flow it starts, its :ForEach.
 */
export function composeDetails(node, flowTitle = (n) => n) {
  const out = [];
  if (!node) return out;
  if (node.type === COMPOSE_TYPE.SUBPROCESS && node.subflow) {
    const start = node.start && node.start !== 'start' ? ` at ${node.start}` : '';
    out.push(`starts a process of ${flowTitle(node.subflow)}${start} and waits until it ends`);
  }
  const fe = node.foreach;
  if (fe && typeof fe === 'object') {
    const list = fe.field ? `each item of ${fe.field}` : 'each item of a list';
    out.push(`one task for ${list}, ${fe.parallel === false ? 'one after another' : 'all at once'}`);
    if (fe.complete === 'function') out.push('goes on when the flow decides enough are done; the rest are canceled');
    else if (fe.complete != null && Number.isFinite(Number(fe.complete))) {
      out.push(`goes on once ${Number(fe.complete)} are done; the rest are canceled`);
    } else out.push('goes on when every one has ended');
  }
  return out;
}
