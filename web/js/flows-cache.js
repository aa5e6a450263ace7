// GET /api/flows and GET /api/flows/{flow}, cached briefly: filters and labels on
// many pages need them, and flows change only on hot reload.

import * as api from './api.js';
import { seg } from './router.js';
import { normalizeFields } from './forms.js';

const TTL = 30_000;
let list = null;
const defs = new Map();

export async function getFlows(force = false) {
  if (!force && list && Date.now() - list.at < TTL) return list.items;
  const r = await api.get('/api/flows');
  const items = (r && Array.isArray(r.items)) ? r.items : [];
  list = { at: Date.now(), items };
  return items;
}

/** The flow definition with `fields` normalized to an ordered array. */
export async function getFlowDef(name, force = false) {
  const hit = defs.get(name);
  if (!force && hit && Date.now() - hit.at < TTL) return hit.def;
  const def = await api.get(`/api/flows/${seg(name)}`);
  def.fields = normalizeFields(def.fields);
  def.nodes = Array.isArray(def.nodes) ? def.nodes : [];
  defs.set(name, { at: Date.now(), def });
  return def;
}

/** Like getFlowDef but never throws: labels are a nicety. */
export async function tryFlowDef(name) {
  try { return await getFlowDef(name); } catch (e) {
    if (e instanceof api.ApiError && e.status === 401) throw e;
    return null;
  }
}

export function flowTitle(items, name) {
  const f = (items || []).find((x) => x.name === name);
  return (f && f.title) || name;
}

export function forgetFlows() { list = null; defs.clear(); }
