// The only place that talks HTTP. Every call goes to the JSON API under /api
// (http-api.md); errors come back as ApiError with the server's code and message,
// and describeError() turns any of them into words for the user.

const CSRF_KEY = 'flowhost.csrf';

let csrfToken = readStoredToken();
let unauthorizedHandler = null;

function readStoredToken() {
  try { return sessionStorage.getItem(CSRF_KEY); } catch { return null; }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
  try {
    if (csrfToken) sessionStorage.setItem(CSRF_KEY, csrfToken);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch { /* storage may be disabled; memory is enough */ }
}

/** Called on every 401 (except where the caller handles it). */
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields || null;
  }
}

const CODE_BY_STATUS = {
  400: 'bad_request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found',
  409: 'conflict', 413: 'too_large', 422: 'flow_error', 503: 'busy',
};

/**
 * request(method, path, {body, query, text, allow401})
 *  - query: object of parameters; null/undefined/'' values are left out
 *  - text: return the body as text (for graph.svg)
 *  - allow401: do not run the global 401 handler (login, session probe)
 */
export async function request(method, path, opts = {}) {
  let url = path;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: opts.text ? 'image/svg+xml, text/plain, */*' : 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
  }

  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }

  const type = res.headers.get('Content-Type') || '';
  let payload = null;
  let rawText = '';
  try {
    rawText = await res.text();
  } catch {
    rawText = '';
  }
  if (type.includes('json') || (!opts.text && rawText)) {
    try { payload = rawText ? JSON.parse(rawText) : null; } catch { payload = null; }
  }

  if (!res.ok) {
    const err = payload && typeof payload === 'object' && payload.error && typeof payload.error === 'object'
      ? payload.error : null;
    const e = new ApiError(
      res.status,
      (err && err.code) || CODE_BY_STATUS[res.status] || 'http_error',
      (err && err.message) || '',
      err && err.fields && typeof err.fields === 'object' ? err.fields : null,
    );
    if (err && typeof err.traceback === 'string') { e.traceback = err.traceback; e.node = err.node || null; }   // flow_error, by role
    if (res.status === 401 && !opts.allow401 && unauthorizedHandler) unauthorizedHandler(e);
    throw e;
  }
  if (opts.text) return rawText;
  if (rawText && payload === null) {
    throw new ApiError(res.status, 'bad_response', 'The server sent a response that is not JSON.');
  }
  return payload;
}

export const get = (path, query, opts = {}) => request('GET', path, { ...opts, query });
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body: body === undefined ? {} : body });
export const del = (path, opts = {}) => request('DELETE', path, opts);

/** A sentence for the user, whatever went wrong. */
export function describeError(e, doing) {
  const text = errorSentence(e, doing);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errorSentence(e, doing) {
  const what = doing ? `Could not ${doing}: ` : '';
  if (!(e instanceof ApiError)) {
    return `${what}something went wrong in the page (${(e && e.message) || e}).`;
  }
  const msg = e.message && e.message !== e.code ? e.message : '';
  const tail = msg ? ` ${ensureStop(msg)}` : '';
  switch (e.code) {
    case 'network': return what + e.message;
    case 'invalid': return `${what}some fields need attention.${tail}`;
    case 'bad_request': return `${what}the server refused the request.${tail}`;
    case 'unauthenticated': return `${what}you are not signed in, or your session has ended.${tail}`;
    case 'forbidden': return `${what}you are not allowed to do this.${tail}`;
    case 'not_found': return `${what}it was not found, or you may not see it.${tail}`;
    case 'conflict': return `${what}not possible in the current state.${tail}`;
    case 'too_large': return `${what}the data is too large to send.${tail}`;
    case 'flow_error': return `${what}the flow raised an error.${tail}`;
    case 'busy': return `${what}the server is busy right now. Please try again in a moment.${tail}`;
    case 'bad_response': return what + e.message;
    default:
      return `${what}the server answered with an error (HTTP ${e.status}).${tail}`;
  }
}

/** A server message as a sentence: "the form has errors" → "The form has errors." */
export function sentence(s) { return ensureStop(s); }

function ensureStop(s) {
  let t = String(s).trim();
  // "no task 9" → "No task 9", but leave "flows/x.lua:3: ..." as it is
  if (/^[a-z][a-z']*$/.test(t.split(/\s/)[0])) t = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(t) ? t : `${t}.`;
}
