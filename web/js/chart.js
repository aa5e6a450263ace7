// The flow chart: graph.svg (Graphviz) fetched as text, parsed with DOMParser,
// cleaned of anything active, then inlined and coloured per node by the status
// of the latest task of that node.

import * as api from './api.js';
import { h } from './dom.js';
import { TASK_STATUSES, statusKey, statusWord } from './status.js';
import { seg } from './router.js';
import { isTimeout, timeoutState } from './events.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ALLOWED = new Set([
  'svg', 'g', 'title', 'desc', 'polygon', 'polyline', 'ellipse', 'circle', 'rect', 'path', 'line',
  'text', 'tspan', 'defs', 'lineargradient', 'radialgradient', 'stop', 'a', 'clippath', 'marker',
]);

/** Parse and clean SVG text; returns an <svg> element of this document, or throws. */
export function parseSvg(textSvg) {
  const doc = new DOMParser().parseFromString(String(textSvg), 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName.toLowerCase() !== 'svg' || doc.getElementsByTagName('parsererror').length) {
    throw new Error('the flow chart is not valid SVG');
  }
  clean(root);
  return document.importNode(root, true);
}

function clean(el) {
  for (const child of [...el.children]) {
    if (!ALLOWED.has(child.localName.toLowerCase()) || child.namespaceURI !== SVG_NS) {
      child.remove();
      continue;
    }
    clean(child);
  }
  for (const attr of [...el.attributes]) {
    const name = attr.name.toLowerCase();
    const local = attr.localName.toLowerCase();
    if (name.startsWith('on')) el.removeAttributeNode(attr);
    else if (local === 'href' && !attr.value.trim().startsWith('#')) el.removeAttributeNode(attr);
    else if (name === 'style' && /url\s*\(|expression|javascript:/i.test(attr.value)) el.removeAttributeNode(attr);
  }
}

/** The node name of a Graphviz <g class="node">: data-node, id "node-NAME", or its <title>. */
export function nodeName(g) {
  const dn = g.getAttribute('data-node');
  if (dn) return dn;
  const id = g.getAttribute('id') || '';
  if (id.startsWith('node-')) return id.slice(5);
  const t = [...g.children].find((c) => c.localName === 'title');
  return t ? t.textContent.trim() : null;
}

/**
 * The latest task (highest id) per node name. Timeout rows carry the name of the
 * node they guard: they colour their dashed edge (latestTimeouts), not the node.
 */
export function latestByNode(tasks) {
  const latest = new Map();
  for (const t of tasks || []) {
    if (isTimeout(t)) continue;
    const prev = latest.get(t.node);
    if (!prev || Number(t.id) > Number(prev.id)) latest.set(t.node, t);
  }
  return latest;
}

/** The latest timeout row per edge, keyed "guarded->target" (the edge's <title>). */
export function latestTimeouts(tasks) {
  const latest = new Map();
  for (const t of tasks || []) {
    if (!isTimeout(t) || !t.timeout || !t.timeout.node) continue;
    const key = `${t.node}->${t.timeout.node}`;
    const prev = latest.get(key);
    if (!prev || Number(t.id) > Number(prev.id)) latest.set(key, t);
  }
  return latest;
}

/**
 * renderChart(flow, tasks, {title, plain}) → a container element; the SVG loads into it.
 * Nodes that have a task become keyboard-focusable and open that task.
 * plain: show the chart as the server drew it (no task colours, no legend).
 */
export function renderChart(flow, tasks, { title, plain = false } = {}) {
  const latest = latestByNode(tasks);
  const timeouts = latestTimeouts(tasks);
  const usedStatuses = new Set([...latest.values()].map((t) => statusKey(t.status)));

  const canvas = h('div', { class: 'chart-canvas', 'aria-busy': 'true' },
    h('p', { class: 'muted' }, 'Loading the flow chart…'));
  const legend = h('ul', { class: 'chart-legend', 'aria-label': 'Legend: colour of each node is the status of its latest task' },
    h('li', null, h('span', { class: 'legend-swatch st-none', 'aria-hidden': 'true' }), 'No task yet'),
    TASK_STATUSES.map((s) => h('li', { class: usedStatuses.has(s) ? 'used' : null },
      h('span', { class: `legend-swatch st-${s}`, 'aria-hidden': 'true' }), statusWord(s))));
  const timeoutLegend = h('li', { class: 'legend-timeout', hidden: true },
    h('span', { class: 'legend-line legend-line-timeout', 'aria-hidden': 'true' }), 'Timeout (dashed; coloured while armed or once fired)');
  legend.appendChild(timeoutLegend);
  const container = h('figure', { class: 'chart', testid: 'process-chart' },
    canvas,
    plain ? null : h('figcaption', null, legend));

  api.get(`/api/flows/${seg(flow)}/graph.svg`, null, { text: true })
    .then((svgText) => {
      const svg = parseSvg(svgText);
      fitSvg(svg);
      svg.setAttribute('role', 'group');
      svg.setAttribute('aria-label', title || `Flow chart of ${flow}`);
      if (!plain) colour(svg, latest);
      if (!plain) colourTimeouts(svg, timeouts);
      timeoutLegend.hidden = !svg.querySelector('g.edge.timeout');
      canvas.replaceChildren(svg);
      canvas.removeAttribute('aria-busy');
      // a wide chart takes the whole row of its page layout
      const wide = parseFloat(svg.style.getPropertyValue('--chart-min')) > 640;
      container.closest('.chart-panel')?.classList.toggle('chart-wide', wide);
    })
    .catch((e) => {
      canvas.removeAttribute('aria-busy');
      canvas.replaceChildren(h('p', { class: 'chart-error', role: 'note' },
        e instanceof api.ApiError ? api.describeError(e, 'show the flow chart') : `Could not show the flow chart: ${e.message}.`));
    });
  return container;
}

function fitSvg(svg) {
  // keep the natural size as an upper bound, scale down on narrow screens
  const w = parseFloat(svg.getAttribute('width') || '');
  if (!svg.getAttribute('viewBox')) {
    const hgt = parseFloat(svg.getAttribute('height') || '');
    if (w && hgt) svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  }
  if (w) {
    svg.style.maxWidth = `${Math.round(w * 1.333)}px`;
    // on wide screens a long flow scrolls sideways instead of shrinking
    // until its labels are unreadable (see .chart-svg in style.css)
    svg.style.setProperty('--chart-min', `${Math.round(w)}px`);
  }
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('preserveAspectRatio', 'xMidYMin meet');
  svg.classList.add('chart-svg');
}

function colour(svg, latest) {
  for (const g of svg.querySelectorAll('g.node')) {
    const name = nodeName(g);
    if (!name) continue;
    g.setAttribute('data-node', name);
    const task = latest.get(name);
    if (!task) { g.classList.add('st-none'); continue; }
    const status = statusKey(task.status);
    g.classList.add(`st-${status}`);
    g.setAttribute('data-status', status);
    // a status word beside the name for assistive tech and for hovering
    let t = [...g.children].find((c) => c.localName === 'title');
    if (!t) {
      t = document.createElementNS(SVG_NS, 'title');
      g.insertBefore(t, g.firstChild);
    }
    t.textContent = `${name}: ${statusWord(status)} (task #${task.id})`;
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'link');
    const visible = [...g.querySelectorAll('text')].map((x) => x.textContent.trim()).filter(Boolean).join(' ') || name;
    g.setAttribute('aria-label', `${visible}: ${statusWord(status)}, task #${task.id}`);
    const open = () => { location.hash = `#/tasks/${seg(task.id)}`; };
    g.addEventListener('click', open);
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); open(); }
    });
  }
}

/** Dashed timeout edges take the status of their latest timeout row (armed, fired, disarmed). */
function colourTimeouts(svg, timeouts) {
  for (const g of svg.querySelectorAll('g.edge.timeout')) {
    const t = [...g.children].find((c) => c.localName === 'title');
    const key = t ? t.textContent.trim() : '';
    const task = timeouts.get(key);
    if (!task) continue;
    const status = statusKey(task.status);
    g.classList.add(`st-${status}`);
    g.setAttribute('data-status', status);
    g.setAttribute('data-task-id', task.id);
    t.textContent = `${key.replace('->', ' → ')}: timeout ${timeoutState(task)} (task #${task.id})`;
  }
}
