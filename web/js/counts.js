// Inbox and Queue counts in the top bar. GET /api/tasks/counts → {"inbox": n, "queue": n}, with
// "inbox_capped"/"queue_capped": true above the server's cap, shown as "n+" (999+);
// if the server lacks that route, the task lists are counted instead (up to 100).
// A background refresh never redirects to the login page (it would lose a half-filled
// form); the next real request does.

import * as api from './api.js';
import { user } from './session.js';

let inflight = null;
let haveCountsRoute = true;

function show(name, n, more) {
  const el = document.getElementById(`count-${name}`);
  if (!el) return;
  if (n === null || n === undefined) { el.hidden = true; el.textContent = ''; return; }
  el.textContent = more ? `${n}+` : String(n);
  el.hidden = false;
  el.classList.toggle('navcount-zero', n === 0);
}

async function countByList(view) {
  const r = await api.get('/api/tasks', { view, limit: 100 }, { allow401: true });
  const items = (r && r.items) || [];
  return { n: items.length, more: !!(r && r.next_after) };
}

export function refreshCounts() {
  if (!user()) { show('inbox', null); show('queue', null); return Promise.resolve(); }
  if (inflight) return inflight;
  inflight = (async () => {
    try {
      if (haveCountsRoute) {
        try {
          const c = await api.get('/api/tasks/counts', null, { allow401: true });
          show('inbox', c.inbox, !!c.inbox_capped);
          show('queue', c.queue, !!c.queue_capped);
          return;
        } catch (e) {
          if (!(e instanceof api.ApiError) || (e.status !== 404 && e.status !== 400)) throw e;
          haveCountsRoute = false;
        }
      }
      const [a, b] = await Promise.all([countByList('inbox'), countByList('queue')]);
      show('inbox', a.n, a.more);
      show('queue', b.n, b.more);
    } catch {
      // counts are a convenience: a failure here is not worth a message
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

export function hideCounts() { show('inbox', null); show('queue', null); }
