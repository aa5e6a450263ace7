// Who is signed in. The CSRF token itself lives in api.js (memory + sessionStorage).

import * as api from './api.js';

let currentUser = null;
const listeners = new Set();

export function user() { return currentUser; }

export function setSession(u, csrfToken) {
  currentUser = u && typeof u === 'object' ? u : null;
  if (csrfToken !== undefined) api.setCsrfToken(csrfToken);
  for (const fn of listeners) fn(currentUser);
}

export function clearSession() {
  currentUser = null;
  api.setCsrfToken(null);
  for (const fn of listeners) fn(null);
}

export function onSessionChange(fn) { listeners.add(fn); }

function permissions() {
  return currentUser && Array.isArray(currentUser.permissions) ? currentUser.permissions : [];
}

/** Admin, or holder of <flow>.manage (flow-dsl.md "manager"). */
export function isManagerOf(flow) {
  if (!currentUser) return false;
  return !!currentUser.is_admin || permissions().includes(`${flow}.manage`);
}

/** Manager of at least one flow: decides whether the Admin page is offered. */
export function isAnyManager() {
  if (!currentUser) return false;
  return !!currentUser.is_admin || permissions().some((p) => typeof p === 'string' && p.endsWith('.manage'));
}

export function username() { return currentUser ? currentUser.username : null; }

/** Probe the server: resolves to the user or null (401). Other errors are thrown. */
export async function probe() {
  try {
    const s = await api.get('/api/session', null, { allow401: true });
    setSession(s && s.user, s && s.csrf_token !== undefined ? s.csrf_token : undefined);
    return currentUser;
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 401) {
      clearSession();
      return null;
    }
    throw e;
  }
}

export async function login(username, password) {
  const s = await api.post('/api/session', { username, password }, { allow401: true });
  setSession(s.user, s.csrf_token);
  return currentUser;
}

export async function logout() {
  try {
    await api.del('/api/session', { allow401: true });
  } finally {
    clearSession();
  }
}
