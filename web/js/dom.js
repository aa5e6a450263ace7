// Small DOM helpers. Everything is built with createElement and text nodes:
// no server text ever goes through innerHTML.

import { STATUS, statusKey, statusWord } from './status.js';
import { isTimeout } from './events.js';
import { humanKey, formatLoose } from './format.js';

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'required', 'multiple', 'readOnly']);

/** h('a', {href: '#/x', class: 'btn', testid: 'nav', onClick: fn}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'testid') el.setAttribute('data-testid', v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace the children of el, with the same child rules as h(). */
export function setContent(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function text(s) { return document.createTextNode(s == null ? '' : String(s)); }

/** A visually hidden piece of text for screen readers. */
export function srOnly(s) { return h('span', { class: 'sr-only' }, s); }

// ---------------------------------------------------------------- statuses

// The statuses themselves, their lists and labels live in status.js; these
// re-exports keep older imports from dom.js working.
export { TASK_STATUSES, PROCESS_STATUSES, statusWord } from './status.js';

export function badge(status, testid) {
  const s = statusKey(status || 'unknown');
  return h('span', { class: `badge st-${s}`, testid: testid || 'status', 'data-status': s }, statusWord(s));
}

// ---------------------------------------------------------------- time

export function parseTime(iso) {
  if (!iso) return null;
  let s = String(iso);
  // tolerate "YYYY-MM-DD HH:MM:SS" without zone: the API speaks UTC
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = s.replace(' ', 'T') + 'Z';
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t);
}

/** "12 min", "3 h", "5 days" for a span of seconds (45 s to 45 days); null outside. */
export function spanPhrase(seconds) {
  const a = Math.abs(seconds);
  if (a < 45 || a >= 86400 * 45) return null;
  if (Math.round(a / 60) < 60) return `${Math.max(1, Math.round(a / 60))} min`; // 59.5 min and up read "1 h"
  if (a < 86400) return `${Math.round(a / 3600)} h`;
  const n = Math.round(a / 86400);
  return `${n} day${n === 1 ? '' : 's'}`;
}

function shortDate(d) {
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function relativeTime(iso, now = Date.now()) {
  const d = parseTime(iso);
  if (!d) return '—';
  const diff = Math.round((now - d.getTime()) / 1000);
  const future = diff < 0;
  if (Math.abs(diff) < 45) return future ? 'in a moment' : 'just now';
  const phrase = spanPhrase(diff);
  if (!phrase) return shortDate(d);
  return future ? `in ${phrase}` : `${phrase} ago`;
}

export function fullTime(iso) {
  const d = parseTime(iso);
  if (!d) return '';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** <time> showing the age, the ISO time in its title; kept fresh by refreshTimes(). */
export function timeEl(iso, testid) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', {
    datetime: iso, title: `${iso} (${fullTime(iso)})`, 'data-rel': '', testid,
  }, relativeTime(iso));
}

export function refreshTimes(root = document) {
  const now = Date.now();
  for (const t of root.querySelectorAll('time[data-rel]')) {
    t.textContent = relativeTime(t.getAttribute('datetime'), now);
  }
  for (const t of root.querySelectorAll('time[data-due]')) {
    const d = dueState({
      due_at: t.getAttribute('datetime'), status: t.dataset.taskStatus, type: t.dataset.taskType,
      finished_at: t.dataset.finished || null,
    }, now);
    if (d) paintDue(t, d);
  }
}

// ---------------------------------------------------------------- due dates

const FINISHED = new Set([STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED]);
const SOON_S = 86400; // a due date within a day is "soon"

/**
 * How a task's due_at reads now: {state, text, title} or null without one.
 * state: overdue | soon | later (open tasks), scheduled (a job, timer or timeout
 * waiting for its run time), late (finished after it was due), past (finished in time).
 */
export function dueState(task, now = Date.now()) {
  const d = task && parseTime(task.due_at);
  if (!d) return null;
  const st = statusKey(task.status);
  const secs = Math.round((d.getTime() - now) / 1000);
  const when = fullTime(task.due_at);
  const iso = String(task.due_at);
  if (FINISHED.has(st)) {
    const fin = parseTime(task.finished_at);
    if (st === STATUS.DONE && fin && fin.getTime() > d.getTime()) {
      const by = spanPhrase((fin.getTime() - d.getTime()) / 1000);
      return { state: 'late', text: by ? `done ${by} late` : 'done late', title: `Was due ${when} (${iso})` };
    }
    return { state: 'past', text: `was due ${shortDate(d)}`, title: `Was due ${when} (${iso})` };
  }
  if (st === STATUS.SCHEDULED) {
    const verb = isTimeout(task) ? 'fires' : 'runs';
    const title = `${isTimeout(task) ? 'Fires' : 'Runs'} at ${when} (${iso})`;
    return { state: 'scheduled', text: secs > 0 ? `${verb} ${relativeTime(iso, now)}` : 'due now', title };
  }
  const title = `Due ${when} (${iso})`;
  if (secs <= 0) {
    const by = spanPhrase(secs);
    return { state: 'overdue', text: by ? `overdue by ${by}` : (secs > -45 ? 'overdue' : `overdue since ${shortDate(d)}`), title };
  }
  return { state: secs <= SOON_S ? 'soon' : 'later', text: `due ${relativeTime(iso, now)}`, title };
}

function paintDue(el, d) {
  el.textContent = d.text;
  el.title = d.title;
  el.className = `due due-${d.state}`;
  el.setAttribute('data-due-state', d.state);
}

/** The due date of a task as a badge ("due in 3 h", "overdue by 2 h"; the exact time on hover), or null. */
export function dueEl(task, testid = 'due') {
  const d = dueState(task);
  if (!d) return null;
  const el = h('time', {
    datetime: task.due_at, 'data-due': '', testid,
    'data-task-status': statusKey(task.status), 'data-task-type': task.type || null,
    'data-finished': task.finished_at || null,
  });
  paintDue(el, d);
  return el;
}

// ---------------------------------------------------------------- values

export function formatValue(value, field) {
  if (value === undefined || value === null || value === '') return h('span', { class: 'muted' }, '—');
  if (field && field.type === 'choice' && Array.isArray(field.choices)) {
    const c = field.choices.find((x) => String(x.value) === String(value));
    if (c) return text(c.label ?? c.value);
  }
  if (typeof value === 'boolean') return text(value ? 'Yes' : 'No');
  if (field && field.type === 'date' && typeof value === 'string') {
    const d = parseTime(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (d) return h('span', { title: value }, d.toLocaleDateString(undefined, { timeZone: 'UTC', dateStyle: 'medium' }));
  }
  if (typeof value === 'object') return h('code', { class: 'json' }, JSON.stringify(value));
  return text(String(value));
}

/** A <dl> of data with labels taken from field objects where known. */
export function dataList(data, fields, testid) {
  const byName = new Map((fields || []).map((f) => [f.name, f]));
  const keys = Object.keys(data || {});
  // known fields first, in schema order; then anything else
  const ordered = [
    ...(fields || []).map((f) => f.name).filter((n) => keys.includes(n)),
    ...keys.filter((k) => !byName.has(k)).sort(),
  ];
  if (!ordered.length) return h('p', { class: 'muted', testid }, 'No data yet.');
  return h('dl', { class: 'datalist', testid },
    ordered.map((k) => {
      const f = byName.get(k);
      // undeclared data (set by handlers): a readable key, timestamps as dates (format.js)
      return h('div', { class: 'datalist-row', 'data-field': k },
        h('dt', { title: f ? null : k }, (f && f.label) || humanKey(k)),
        h('dd', { testid: `data-${k}` }, f ? formatValue(data[k], f) : (formatLoose(k, data[k]) || formatValue(data[k]))));
    }));
}

// ---------------------------------------------------------------- flash

const flashRegion = () => document.getElementById('flash');
let flashSeq = 0;

/**
 * flash(message, kind, {keep})
 *  message: string or Node (or array of them); kind: 'success' | 'error' | 'info'
 *  keep: survive the next navigation (set it when you navigate right after)
 */
export function flash(message, kind = 'info', opts = {}) {
  const region = flashRegion();
  if (!region) return null;
  const id = `flash-${++flashSeq}`;
  const item = h('div', {
    class: `flash flash-${kind}`, id, 'data-kind': kind, role: kind === 'error' ? 'alert' : null,
    'data-keep': opts.keep ? '1' : null,
  },
  h('span', { class: 'flash-icon', 'aria-hidden': 'true' }),
  h('div', { class: 'flash-text', testid: 'flash-message' }, message),
  h('button', {
    type: 'button', class: 'flash-close', 'aria-label': 'Dismiss message', title: 'Dismiss',
    onClick: () => { item.remove(); },
  }));
  // a new error replaces older errors; a success replaces older errors and successes
  for (const old of [...region.children]) {
    const k = old.dataset.kind;
    if ((kind === 'error' && k === 'error') || (kind === 'success' && (k === 'error' || k === 'success'))) old.remove();
  }
  region.appendChild(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  if (kind === 'error') {
    // errors must be seen: bring the message area into view if the page is scrolled away
    const r = region.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) region.scrollIntoView({ block: 'nearest' });
  }
  return item;
}

export const flashError = (msg, opts) => flash(msg, 'error', opts);
export const flashSuccess = (msg, opts) => flash(msg, 'success', opts);

/** On navigation: drop old messages, keep those flagged for this navigation once. */
export function ageFlash() {
  const region = flashRegion();
  if (!region) return;
  for (const item of [...region.children]) {
    if (item.dataset.keep) delete item.dataset.keep;
    else item.remove();
  }
}

export function clearFlash() {
  const region = flashRegion();
  if (region) region.replaceChildren();
}

// ---------------------------------------------------------------- confirm

/** Ask in the <dialog>; resolves true when confirmed. Esc or "Keep it" → false. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', cancelLabel = 'Keep it', danger = true }) {
  const dlg = document.getElementById('confirm-dialog');
  const opener = document.activeElement;
  if (!dlg || typeof dlg.showModal !== 'function') {
    // eslint-disable-next-line no-alert
    return Promise.resolve(window.confirm(`${title}\n\n${message}`));
  }
  dlg.querySelector('#confirm-title').textContent = title;
  dlg.querySelector('#confirm-message').textContent = message;
  const ok = dlg.querySelector('#confirm-ok');
  const cancel = dlg.querySelector('#confirm-cancel');
  ok.textContent = confirmLabel;
  ok.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
  cancel.textContent = cancelLabel;
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    }, { once: true });
    dlg.showModal();
    cancel.focus(); // the safe choice has the focus
  });
}

// ---------------------------------------------------------------- misc

export function setBusy(button, busy, label) {
  if (!button) return;
  if (busy) {
    button.dataset.label = button.textContent;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    if (label) button.textContent = label;
  } else {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (button.dataset.label) button.textContent = button.dataset.label;
  }
}

export function pageHeader(title, { sub, actions, crumbs } = {}) {
  return h('header', { class: 'page-header' },
    crumbs ? h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('ol', null, crumbs.map(([label, href]) => h('li', null, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label))))) : null,
    h('div', { class: 'page-header-row' },
      h('div', { class: 'page-title-block' },
        h('h1', { class: 'page-title', tabindex: '-1', testid: 'page-title' }, title),
        sub ? h('p', { class: 'page-sub' }, sub) : null),
      actions ? h('div', { class: 'page-actions' }, actions) : null));
}

export function emptyState(title, body, action) {
  return h('div', { class: 'empty', testid: 'empty' },
    h('p', { class: 'empty-title' }, title),
    body ? h('p', { class: 'empty-body' }, body) : null,
    action || null);
}
