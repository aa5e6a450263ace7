// Words for values the flow file did not describe, and for spans of time: a key of
// undeclared process data humanised ("sent_at" → "Sent at"), a timestamp under a
// time-like key shown as a date, durations ("took 3 min 20 s"), absolute times.

import { h, text, parseTime, fullTime } from './dom.js';

/** "sent_at" → "Sent at", "customerName" → "Customer name". */
export function humanKey(key) {
  const words = String(key).replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_\-.]+/g, ' ').trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : String(key);
}

const TIME_KEY = /(^|_)(at|time|date|on|when|deadline|until|since)$|_ts$|timestamp/i;
// seconds since the epoch between 2001 and 2096: a timestamp, not a count
const EPOCH_MIN = 1e9;
const EPOCH_MAX = 4e9;

/** A Date for a value that looks like a point in time under a time-like key, else null. */
export function asTime(key, value) {
  if (!TIME_KEY.test(String(key))) return null;
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (value >= EPOCH_MIN && value < EPOCH_MAX) return new Date(value * 1000);
    if (value >= EPOCH_MIN * 1000 && value < EPOCH_MAX * 1000) return new Date(value); // milliseconds
    return null;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}.*)?$/.test(value)) {
    return parseTime(value.length === 10 ? `${value}T00:00:00Z` : value);
  }
  return null;
}

/** A readable node for a value of undeclared data under `key`. */
export function formatLoose(key, value) {
  const d = asTime(key, value);
  if (d) {
    const iso = d.toISOString();
    return h('time', { datetime: iso, title: `${String(value)} (${iso})`, testid: 'loose-time' }, fullTime(iso));
  }
  if (typeof value === 'boolean') return text(value ? 'Yes' : 'No');
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    return text(value.length ? value.join(', ') : '—');
  }
  if (value && typeof value === 'object') {
    return h('dl', { class: 'loose-object' }, Object.entries(value).map(([k, v]) => h('div', null,
      h('dt', null, humanKey(k)), h('dd', null, formatLoose(k, v)))));
  }
  return null; // the caller's usual formatting
}

/** "45 s", "3 min 20 s", "2 h 5 min", "3 days 4 h" for a span of seconds (>= 0). */
export function durationText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const days = Math.floor(hrs / 24);
  const rest = hrs % 24;
  return `${days} day${days === 1 ? '' : 's'}${rest ? ` ${rest} h` : ''}`;
}

/** The span between two API times as words, or null when either is missing. */
export function durationBetween(fromIso, toIso) {
  const a = parseTime(fromIso);
  const b = parseTime(toIso);
  if (!a || !b) return null;
  return durationText((b.getTime() - a.getTime()) / 1000);
}

/** <span> "took 3 min" with both ends in its title; null when unfinished. */
export function durationEl(fromIso, toIso, { prefix = '', testid = 'duration' } = {}) {
  const words = durationBetween(fromIso, toIso);
  if (!words) return null;
  return h('span', { class: 'duration', testid, title: `${fullTime(fromIso)} → ${fullTime(toIso)}` }, `${prefix}${words}`);
}

/** A task's :Priority ("high", "normal", "low") as a word, or null. */
export function priorityEl(task) {
  const p = String((task && task.priority) || '').replace(/[^a-z]/g, '');
  if (!p) return null;
  return h('span', { class: `priority priority-${p}`, testid: 'priority' }, p[0].toUpperCase() + p.slice(1));
}
