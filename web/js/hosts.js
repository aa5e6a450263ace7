// The hosts serving a flow, on the Flows page (GET /api/flows "hosts"): when several `serve`
// hosts share the database, a compact line "Hosts: a 1a2b3c4d · b 5e6f7a8b" with every host
// whose version differs from this host's highlighted, so that a deploy that has not reached
// every host shows at a glance.  One host serving this very version says nothing.

import { h } from './dom.js';

const short = (hash) => String(hash || '').slice(0, 8);

/** The hosts line of a Flows card, or null when there is nothing to tell. */
export function flowHostsBlock(f) {
  const hosts = Array.isArray(f && f.hosts) ? f.hosts : [];
  const differs = (x) => x.hash !== (f.version || null);
  const mismatched = hosts.filter(differs).length;
  if (!hosts.length || (hosts.length === 1 && !mismatched)) return null;
  return h('div', {
    class: `flow-hosts small${mismatched ? ' flow-hosts-mismatch' : ''}`, testid: 'flow-hosts',
    'data-hosts': hosts.length, 'data-mismatched': mismatched,
  },
  h('span', { class: 'muted' }, mismatched
    ? `${mismatched} of ${hosts.length} hosts serve another version: `
    : `All ${hosts.length} hosts serve this version: `),
  hosts.map((x, i) => [i ? ' · ' : null, h('span', {
    class: `flow-host${differs(x) ? ' flow-host-differs' : ''}`, testid: 'flow-host', 'data-host': x.name,
    'data-hash': x.hash || '', title: `since ${x.since}, last seen ${x.seen_at}`,
  },
  x.name, ' ', x.hash ? h('code', { title: x.hash }, short(x.hash)) : h('em', null, 'fails to load'),
  differs(x) ? h('span', { class: 'sr-only' }, ' (another version)') : null)]));
}
