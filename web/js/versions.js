// Flow versions in the UI: the version a process runs on (process page) and, on the Flows
// page, the version loaded, the running processes per version and the report of the last
// reload (what the edit did to running processes: GET /api/flows "reload_report").

import { h } from './dom.js';

const short = (hash) => String(hash || '').slice(0, 8);

/** "Runs on version 1a2b3c4d" with a note when it is not the version loaded now. */
export function processVersionNote(p, flowInfo) {
  if (!p || !p.flow_version) return null;
  const current = flowInfo && flowInfo.version;
  const older = current && current !== p.flow_version;
  const pinned = flowInfo && flowInfo.version_mode === 'pin';
  return h('p', { class: 'small muted version-note', testid: 'process-version', 'data-version': p.flow_version },
    'Runs on version ', h('code', { title: p.flow_version }, short(p.flow_version)),
    older ? (pinned ? ' (pinned; the flow has a newer version)' : ' (an older version)') : (current ? ' (the current version)' : null));
}

/** One finding of a reload report as a sentence. */
function findingText(f) {
  const n = (f.processes || []).length;
  const procs = n ? ` — ${n} process${n === 1 ? '' : 'es'}` : '';
  switch (f.kind) {
    case 'node_removed': return `Step “${f.node}” was removed${procs}${f.command ? `; looks renamed: ${f.command}` : ''}`;
    case 'node_changed': return `Step “${f.node}” changed from ${f.from} to ${f.to}${procs}`;
    case 'field_removed': return `Field “${f.field}” was removed${procs}`;
    case 'field_retyped': return `Field “${f.field}” changed type ${f.from} → ${f.to}${procs}`;
    case 'field_required': return `Field “${f.field}” became required${procs}`;
    case 'join_changed': return `Join “${f.node}”: its branches changed${procs}`;
    case 'flow_removed': return `The flow was removed${procs}`;
    default: return String(f.kind || 'change');
  }
}

/** The Flows card's version block: version, mode, running counts ("999+" above the server's
 * cap: running_capped), last reload's report. */
export function flowVersionsBlock(f) {
  if (!f || !f.version) return null;
  const counts = (f.versions || []).filter((v) => v.running > 0);
  const r = f.reload_report && typeof f.reload_report === 'object' ? f.reload_report : null;
  const findings = r && Array.isArray(r.findings) ? r.findings : [];
  return h('div', { class: 'flow-versions', testid: 'flow-versions', 'data-version': f.version, 'data-mode': f.version_mode || 'follow' },
    h('p', { class: 'small muted' }, 'Version ', h('code', { title: f.version }, short(f.version)),
      f.version_mode === 'pin' ? ' · pinned: running processes finish on the version they started with' : null),
    counts.length ? h('ul', { class: 'version-counts small', testid: 'version-counts' }, counts.map((v) =>
      h('li', { testid: 'version-count', 'data-version': v.hash == null ? '' : v.hash, 'data-running': v.running },
        v.hash ? h('code', { title: v.hash }, short(v.hash)) : 'older',
        `: ${v.running}${v.running_capped ? '+' : ''} running`, v.hash === f.version ? ' (current)' : null))) : null,
    r ? h('div', {
      class: `notice ${r.stranded ? 'notice-error' : ''} reload-report`, role: 'note', testid: 'reload-report',
      'data-stranded': r.stranded ? 'true' : 'false',
    },
    h('p', null, `Last edit, from ${short(r.from) || 'an older version'}: `,
      r.pinned
        ? (r.stranded ? 'it would strand running work; the running processes stay on their version.'
          : 'nothing running is affected; the running processes stay on their version.')
        : (r.stranded ? 'running work is stranded.' : 'no running work is stranded.')),
    findings.length ? h('ul', null, findings.map((x) => h('li', { testid: 'reload-finding', 'data-kind': x.kind }, findingText(x))))
      : null) : null);
}
