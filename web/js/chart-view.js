// The chart's viewport: fit to width by default, zoom (buttons, ctrl+wheel, + and - keys)
// and pan (drag, or scroll). The SVG keeps its viewBox; only its pixel size changes, so
// the browser scrolls it natively and the text stays crisp. Fitting never shrinks text
// below 12 px (READABLE), so a long flow is panned rather than made unreadable; the
// zoom buttons may go smaller on purpose.

import { h } from './dom.js';

/** Pixels per SVG unit at which 12-unit edge labels are 12 px (Graphviz draws in points). */
export const READABLE = 1;
const MIN = 0.25;
const MAX = 3;
const STEP = 1.25;

/** The scale at which a chart `width` units wide fills `avail` px, kept readable. */
export function fitScale(width, avail) {
  if (!(width > 0) || !(avail > 0)) return READABLE;
  return Math.min(1.25, Math.max(READABLE, avail / width));
}

/**
 * attachViewer(canvas, svg) → {toolbar, fit(), zoomTo(scale), scale()}.
 * canvas is the scrolling box that holds svg; svg must have a viewBox.
 */
export function attachViewer(canvas, svg) {
  const vb = (svg.getAttribute('viewBox') || '').split(/[\s,]+/).map(Number);
  const width = vb[2] || 300;
  const height = vb[3] || 150;
  let scale = READABLE;
  const label = h('span', { class: 'chart-zoom-level', testid: 'chart-zoom-level', 'aria-live': 'polite' }, '100%');

  function apply(next, cx, cy) {
    const old = scale;
    scale = Math.min(MAX, Math.max(MIN, next));
    // keep the point under (cx, cy) (canvas pixels) where it was
    const fx = cx ?? canvas.clientWidth / 2;
    const fy = cy ?? canvas.clientHeight / 2;
    const ux = (canvas.scrollLeft + fx) / old;
    const uy = (canvas.scrollTop + fy) / old;
    svg.style.width = `${Math.round(width * scale)}px`;
    svg.style.height = `${Math.round(height * scale)}px`;
    svg.setAttribute('data-scale', scale.toFixed(3));
    canvas.scrollLeft = ux * scale - fx;
    canvas.scrollTop = uy * scale - fy;
    label.textContent = `${Math.round(scale * 100)}%`;
  }
  const fit = () => apply(fitScale(width, canvas.clientWidth - 8), 0, 0);

  const button = (text, title, testid, onClick) => h('button', {
    type: 'button', class: 'btn btn-small btn-quiet chart-zoom-button', title, 'aria-label': title, testid, onClick,
  }, text);
  const toolbar = h('div', { class: 'chart-toolbar', role: 'toolbar', 'aria-label': 'Zoom the flow chart' },
    button('−', 'Zoom out', 'chart-zoom-out', () => apply(scale / STEP)),
    label,
    button('+', 'Zoom in', 'chart-zoom-in', () => apply(scale * STEP)),
    button('Fit', 'Fit to width', 'chart-fit', fit),
    h('span', { class: 'chart-hint small muted' }, 'Drag to pan · Ctrl+wheel to zoom'));

  canvas.addEventListener('wheel', (ev) => {
    if (!ev.ctrlKey) return;
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    apply(scale * (ev.deltaY < 0 ? STEP : 1 / STEP), ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  canvas.addEventListener('keydown', (ev) => {
    if (ev.key === '+' || ev.key === '=') { ev.preventDefault(); apply(scale * STEP); }
    if (ev.key === '-') { ev.preventDefault(); apply(scale / STEP); }
  });
  enablePan(canvas);
  svg.classList.add('chart-zoomable');
  return { toolbar, fit, zoomTo: (s) => apply(s), scale: () => scale };
}

/** Dragging the canvas with a mouse or pen pans it (touch scrolls natively). */
function enablePan(canvas) {
  let drag = null;
  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType === 'touch' || ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, left: canvas.scrollLeft, top: canvas.scrollTop, moved: false };
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      canvas.setPointerCapture(ev.pointerId);
      canvas.classList.add('chart-panning');
    }
    canvas.scrollLeft = drag.left - dx;
    canvas.scrollTop = drag.top - dy;
  });
  const end = (ev) => {
    if (drag && drag.moved) {
      canvas.classList.remove('chart-panning');
      // a drag is not a click on the node it ends on
      const swallow = (e) => { e.stopPropagation(); e.preventDefault(); };
      canvas.addEventListener('click', swallow, { capture: true, once: true });
      setTimeout(() => canvas.removeEventListener('click', swallow, { capture: true }), 0);
      if (canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
    }
    drag = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}
