// The small markers BPMN draws inside a shape, added to Graphviz's SVG by node kind
// (the class "kind-<type>" that host/flowdef.c gives every node): a person for a user
// task (View), a gear for a service task (Handler, Function), an hourglass for a
// background Job, a clock for a Timer, an envelope for Receive (outline) and Send
// (filled), a "+" square for a collapsed subprocess. Decoration only: aria-hidden.

const SVG_NS = 'http://www.w3.org/2000/svg';

function el(name, attrs) {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function person(x, y) {
  return [
    el('circle', { cx: x + 6, cy: y + 3.5, r: 3 }),
    el('path', { d: `M${x},${y + 14} C${x},${y + 7} ${x + 12},${y + 7} ${x + 12},${y + 14} Z` }),
  ];
}

function gear(x, y) {
  return [
    el('circle', { cx: x + 6, cy: y + 6, r: 4.6, 'stroke-dasharray': '2.2 1.4', 'stroke-width': 2.6, class: 'icon-teeth' }),
    el('circle', { cx: x + 6, cy: y + 6, r: 1.8 }),
  ];
}

function hourglass(x, y) {
  return [el('path', { d: `M${x + 1},${y} h10 l-10,13 h10 Z` })];
}

function clock(cx, cy, r) {
  return [
    el('circle', { cx, cy, r }),
    el('path', { d: `M${cx},${cy - r * 0.7} V${cy} L${cx + r * 0.5},${cy + r * 0.3}` }),
  ];
}

function envelope(cx, cy, r, filled) {
  const w = r * 1.3;
  const hgt = r * 0.9;
  const x = cx - w / 2;
  const y = cy - hgt / 2;
  return [
    el('rect', { x, y, width: w, height: hgt, class: filled ? 'icon-filled' : '' }),
    el('path', { d: `M${x},${y} L${cx},${y + hgt * 0.55} L${x + w},${y}`, class: filled ? 'icon-on-filled' : '' }),
  ];
}

function plusSquare(cx, y) {
  return [
    el('rect', { x: cx - 5, y: y - 12, width: 10, height: 10 }),
    el('path', { d: `M${cx - 3},${y - 7} h6 M${cx},${y - 10} v6` }),
  ];
}

/** The shapes of the marker of one node, given the box of its outline. */
function markerOf(kind, box) {
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const r = Math.min(box.x1 - box.x0, box.y1 - box.y0) / 2;
  switch (kind) {
    case 'view': return person(box.x0 + 6, box.y0 + 4);
    case 'handler': case 'function': return gear(box.x0 + 5, box.y0 + 4);
    case 'job': return hourglass(box.x0 + 6, box.y0 + 4);
    case 'timer': return clock(cx, cy, r * 0.55);
    case 'receive': return envelope(cx, cy, r, false);
    case 'send': return envelope(cx, cy, r, true);
    case 'subprocess': return plusSquare(cx, box.y1);
    default: return null;
  }
}

/** Adds the marker of every node of `svg`; shapeBox(g) gives a node's outline box. */
export function addKindIcons(svg, shapeBox) {
  let n = 0;
  for (const g of svg.querySelectorAll('g.node')) {
    const kind = [...g.classList].find((c) => c.startsWith('kind-'));
    const box = kind ? shapeBox(g) : null;
    const shapes = box ? markerOf(kind.slice(5), box) : null;
    if (!shapes) continue;
    const icon = el('g', { class: `chart-icon icon-${kind.slice(5)}`, 'aria-hidden': 'true', 'data-testid': 'chart-icon' });
    icon.append(...shapes);
    g.appendChild(icon);
    n += 1;
  }
  return n;
}
