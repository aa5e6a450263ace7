// The flow chart: graph.svg (Graphviz) fetched as text, parsed with DOMParser,
// cleaned of anything active, then inlined and coloured per node by the status
// of the latest task of that node. A multi-instance node (:ForEach, "|||" under its
// title) takes the status of its group and a badge "2 of 3 done". chart-view.js fits,
// zooms and pans it; chart-icons.js adds the BPMN markers; a click (or Enter) on a
// node lists that node's tasks of the process below the chart.

import * as api from './api.js';
import { h } from './dom.js';
import { TASK_STATUSES, statusKey, statusWord } from './status.js';
import { seg } from './router.js';
import { isTimeout, timeoutState } from './events.js';
import { isController, groupProgress, progressShort, progressText } from './compose.js';
import { attachViewer } from './chart-view.js';
import { addKindIcons } from './chart-icons.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
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
 * A node with a :ForEach group stands for the group: its latest controller task,
 * never one of the instances.
 */
export function latestByNode(tasks) {
  const latest = new Map();
  for (const t of tasks || []) {
    if (isTimeout(t)) continue;
    const prev = latest.get(t.node);
    const better = !prev || (isController(t) !== isController(prev) ? isController(t) : Number(t.id) > Number(prev.id));
    if (better) latest.set(t.node, t);
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
 * renderChart(flow, tasks, {title, plain, lean}) → a container element; the SVG loads into it.
 * Nodes that have a task become keyboard-focusable and open that task.
 * plain: show the chart as the server drew it (no task colours, no legend).
 * lean: the flow keeps a lean history (docs/flow-dsl.md), so a node without a task may
 * have run straight through: it is "no task kept", not "no task yet".
 */
export function renderChart(flow, tasks, { title, plain = false, lean = false } = {}) {
  const latest = latestByNode(tasks);
  const timeouts = latestTimeouts(tasks);
  const usedStatuses = new Set([...latest.values()].map((t) => statusKey(t.status)));

  const canvas = h('div', { class: 'chart-canvas', 'aria-busy': 'true' },
    h('p', { class: 'muted' }, 'Loading the flow chart…'));
  const legend = h('ul', { class: 'chart-legend', 'aria-label': 'Legend: colour of each node is the status of its latest task' },
    h('li', { testid: 'legend-none' }, h('span', { class: 'legend-swatch st-none', 'aria-hidden': 'true' }),
      lean ? 'No task kept (not reached, or an automatic step run straight through: lean history)' : 'No task yet'),
    TASK_STATUSES.map((s) => h('li', { class: usedStatuses.has(s) ? 'used' : null },
      h('span', { class: `legend-swatch st-${s}`, 'aria-hidden': 'true' }), statusWord(s))));
  const timeoutLegend = h('li', { class: 'legend-timeout', hidden: true },
    h('span', { class: 'legend-line legend-line-timeout', 'aria-hidden': 'true' }), 'Timeout (dashed; coloured while armed or once fired)');
  legend.appendChild(timeoutLegend);
  const groupLegend = h('li', { class: 'legend-group', hidden: true, testid: 'legend-group' },
    h('span', { class: 'legend-pill', 'aria-hidden': 'true' }, 'n of N'), 'Multiple instances (|||): how many of the group are done');
  const subprocessLegend = h('li', { class: 'legend-subprocess', hidden: true },
    h('span', { class: 'legend-swatch legend-bold', 'aria-hidden': 'true' }), 'Bold: a subprocess (runs a process of another flow)');
  legend.append(groupLegend, subprocessLegend);
  const toolbarHolder = h('div', { class: 'chart-toolbar-holder' });
  const nodePanel = h('div', { class: 'chart-node-tasks', testid: 'chart-node-tasks', hidden: true, 'aria-live': 'polite' });
  const container = h('figure', { class: 'chart', testid: 'process-chart' },
    toolbarHolder,
    canvas,
    plain ? null : nodePanel,
    plain ? null : h('figcaption', null, legend));

  api.get(`/api/flows/${seg(flow)}/graph.svg`, null, { text: true })
    .then((svgText) => {
      const svg = parseSvg(svgText);
      fitSvg(svg);
      svg.setAttribute('role', 'group');
      svg.setAttribute('aria-label', title || `Flow chart of ${flow}`);
      if (!plain) colour(svg, latest, tasks, lean ? 'no task kept' : 'no task yet', (g, byKey) => showNodeTasks(nodePanel, g, tasks, byKey));
      if (!plain) colourTimeouts(svg, timeouts);
      const groups = plain ? 0 : badgeGroups(svg, latest, tasks);
      timeoutLegend.hidden = !svg.querySelector('g.edge.timeout');
      groupLegend.hidden = !groups;
      subprocessLegend.hidden = !svg.querySelector('g.node.kind-subprocess');
      addKindIcons(svg, shapeBox);
      canvas.replaceChildren(svg);
      canvas.removeAttribute('aria-busy');
      const viewer = attachViewer(canvas, svg);
      toolbarHolder.replaceChildren(viewer.toolbar);
      // fit once laid out (the canvas has its width only when in the page)
      requestAnimationFrame(() => viewer.fit());
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
  // the viewer (chart-view.js) sizes it; --chart-min tells the page a chart is wide
  const w = parseFloat(svg.getAttribute('width') || '');
  if (!svg.getAttribute('viewBox')) {
    const hgt = parseFloat(svg.getAttribute('height') || '');
    if (w && hgt) svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  }
  if (w) svg.style.setProperty('--chart-min', `${Math.round(w)}px`);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('preserveAspectRatio', 'xMidYMin meet');
  svg.classList.add('chart-svg');
}

/** Makes a node a keyboard-reachable button that lists its tasks. */
function makeListable(g, label, onPick) {
  g.setAttribute('tabindex', '0');
  g.setAttribute('role', 'button');
  g.setAttribute('aria-label', label);
  g.addEventListener('click', () => onPick(g, false));
  g.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onPick(g, true); }
  });
}

function visibleText(g, name) {
  return [...g.querySelectorAll('text')].map((x) => x.textContent.trim())
    .filter((x) => x && x !== '|||' && x !== '×' && x !== '+').join(' ') || name;
}

function colour(svg, latest, tasks, noTask, onPick) {
  for (const g of svg.querySelectorAll('g.node')) {
    const name = nodeName(g);
    if (!name) continue;
    g.setAttribute('data-node', name);
    const task = latest.get(name);
    if (!task) {
      g.classList.add('st-none');
      makeListable(g, `${visibleText(g, name)}: ${noTask}`, onPick);
      continue;
    }
    const status = statusKey(task.status);
    g.classList.add(`st-${status}`);
    g.setAttribute('data-status', status);
    // a status word beside the name for assistive tech and for hovering
    let t = [...g.children].find((c) => c.localName === 'title');
    if (!t) {
      t = document.createElementNS(SVG_NS, 'title');
      g.insertBefore(t, g.firstChild);
    }
    const group = isController(task) ? progressText(groupProgress(task, tasks)) : null;
    t.textContent = `${name}: ${statusWord(status)} (task #${task.id})${group ? ` — multiple instances, ${group}` : ''}`;
    makeListable(g, `${visibleText(g, name)}: ${statusWord(status)}, task #${task.id}${group ? `; multiple instances, ${group}` : ''}; list its tasks`, onPick);
    if (group) {
      // Graphviz's own tooltip (xlink:title of the node's link) names the node: add the count
      for (const a of g.querySelectorAll('a')) {
        const own = a.getAttributeNS(XLINK_NS, 'title');
        if (own) a.setAttributeNS(XLINK_NS, 'xlink:title', `${own} — ${group}`);
      }
    }
  }
}

/** The panel under the chart: every task of the picked node in this process, with links. */
function showNodeTasks(panel, g, tasks, byKey) {
  const name = g.getAttribute('data-node');
  const mine = (tasks || []).filter((t) => t.node === name && !isTimeout(t)).sort((a, b) => Number(a.id) - Number(b.id));
  const title = visibleText(g, name);
  for (const other of g.ownerSVGElement.querySelectorAll('g.node.chart-picked')) other.classList.remove('chart-picked');
  g.classList.add('chart-picked');
  panel.hidden = false;
  panel.replaceChildren(
    h('div', { class: 'chart-node-head' },
      h('h3', { class: 'chart-node-title', testid: 'chart-node-title' }, title),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', testid: 'chart-node-close', onClick: () => {
        panel.hidden = true;
        g.classList.remove('chart-picked');
        g.focus();
      } }, 'Close')),
    mine.length
      ? h('ul', { class: 'chart-node-list' }, mine.map((t) => h('li', { testid: 'chart-node-task' },
        h('a', { href: `#/tasks/${seg(t.id)}`, class: 'subtle-link' }, `#${t.id}`),
        ' ', h('span', { class: `badge st-${statusKey(t.status)}` }, statusWord(statusKey(t.status))),
        t.owner ? h('span', { class: 'muted' }, ` · ${t.owner}`) : null)))
      : h('p', { class: 'muted', testid: 'chart-node-empty' }, 'No task of this step in this process yet.'));
  // from the keyboard, go on to the list: Enter again opens the (latest) task
  if (byKey) (panel.querySelector('[data-testid=chart-node-task]:last-child a') || panel.querySelector('button')).focus();
}

/** The box of a node's first shape in SVG user units, from its coordinates (no layout needed). */
function shapeBox(g) {
  const shape = g.querySelector('polygon, ellipse, path, rect, circle');
  if (!shape) return null;
  const num = (a) => parseFloat(shape.getAttribute(a) || '');
  let xs = [];
  let ys = [];
  switch (shape.localName) {
    case 'ellipse': case 'circle': {
      const rx = shape.localName === 'circle' ? num('r') : num('rx');
      const ry = shape.localName === 'circle' ? num('r') : num('ry');
      xs = [num('cx') - rx, num('cx') + rx];
      ys = [num('cy') - ry, num('cy') + ry];
      break;
    }
    case 'rect':
      xs = [num('x'), num('x') + num('width')];
      ys = [num('y'), num('y') + num('height')];
      break;
    default: {
      // Graphviz writes absolute coordinates: "M247,-70C247,-70 154,-70 …" or "x,y x,y …"
      const nums = (shape.getAttribute(shape.localName === 'path' ? 'd' : 'points') || '')
        .match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi) || [];
      for (let i = 0; i + 1 < nums.length; i += 2) { xs.push(parseFloat(nums[i])); ys.push(parseFloat(nums[i + 1])); }
    }
  }
  xs = xs.filter(Number.isFinite);
  ys = ys.filter(Number.isFinite);
  if (!xs.length || !ys.length) return null;
  return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
}

/**
 * A badge "2 of 3 done" on the top edge of every node that stands for a :ForEach group;
 * the chart grows at the top to make room. Returns how many were drawn.
 */
function badgeGroups(svg, latest, tasks) {
  let n = 0;
  for (const g of svg.querySelectorAll('g.node')) {
    const task = latest.get(g.getAttribute('data-node'));
    if (!task || !isController(task)) continue;
    const box = shapeBox(g);
    if (!box) continue;
    const progress = groupProgress(task, tasks);
    const label = progressShort(progress);
    const w = Math.round(label.length * 5.2 + 12);
    const hgt = 14;
    const cx = (box.x0 + box.x1) / 2;
    const top = box.y0 - hgt + 4;
    const badge = document.createElementNS(SVG_NS, 'g');
    badge.setAttribute('class', `group-badge${progress.done >= progress.total ? ' group-badge-done' : ''}`);
    badge.setAttribute('data-testid', 'group-badge');
    badge.setAttribute('aria-hidden', 'true');
    const rect = document.createElementNS(SVG_NS, 'rect');
    rect.setAttribute('class', 'group-badge-bg');
    for (const [k, v] of Object.entries({ x: cx - w / 2, y: top, width: w, height: hgt, rx: 7, ry: 7 })) rect.setAttribute(k, String(v));
    const text = document.createElementNS(SVG_NS, 'text');
    text.setAttribute('class', 'group-badge-text');
    for (const [k, v] of Object.entries({ x: cx, y: top + 10, 'text-anchor': 'middle', 'font-size': 9 })) text.setAttribute(k, String(v));
    text.textContent = label;
    badge.append(rect, text);
    g.appendChild(badge);
    g.setAttribute('data-group', label);
    n += 1;
  }
  if (n) {
    // room above the top row of nodes for their badges
    const vb = (svg.getAttribute('viewBox') || '').split(/[\s,]+/).map(Number);
    if (vb.length === 4 && vb.every(Number.isFinite)) svg.setAttribute('viewBox', `${vb[0]} ${vb[1] - 10} ${vb[2]} ${vb[3] + 10}`);
  }
  return n;
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
