// Sign in: POST /api/session; then back to the page that asked for it.

import * as api from '../api.js';
import { h, flashError, clearFlash } from '../dom.js';
import { navigate } from '../router.js';
import { login } from '../session.js';

export function safeNext(next) {
  if (!next || typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return null;
  if (next.startsWith('/login')) return null;
  return next;
}

export async function loginView(ctx) {
  document.title = 'Sign in · flowhost';
  const next = safeNext(ctx.query.get('next'));
  const errBox = h('p', { class: 'form-error', id: 'login-error', testid: 'login-error', role: 'alert', hidden: true });
  const user = h('input', {
    id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none',
    spellcheck: 'false', required: true, testid: 'login-username', 'aria-describedby': 'login-error',
  });
  const pass = h('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, testid: 'login-password', 'aria-describedby': 'login-error',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, 'Sign in');

  const showError = (msg, focusEl) => {
    errBox.textContent = msg;
    errBox.hidden = false;
    if (focusEl) focusEl.focus();
  };

  const form = h('form', { class: 'login-form', novalidate: true, testid: 'login-form', 'aria-labelledby': 'login-title' },
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, 'User name'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), pass),
    errBox,
    submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errBox.hidden = true;
    const u = user.value.trim();
    if (!u) { showError('Enter your user name.', user); return; }
    if (!pass.value) { showError('Enter your password.', pass); return; }
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    submit.textContent = 'Signing in…';
    try {
      await login(u, pass.value);
      clearFlash();
      const target = next || '/inbox';
      const i = target.indexOf('?');
      navigate(i >= 0 ? target.slice(0, i) : target, i >= 0 ? new URLSearchParams(target.slice(i + 1)) : null, { replace: true });
    } catch (e) {
      pass.value = '';
      if (e instanceof api.ApiError && e.status === 401) showError('Wrong user name or password.', pass);
      else {
        const msg = api.describeError(e, 'sign in');
        showError(msg, user);
        flashError(msg);
      }
    } finally {
      if (submit.isConnected) {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
        submit.textContent = 'Sign in';
      }
    }
  });

  ctx.autofocus = user;
  ctx.mount(h('section', { class: 'login-wrap' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: 'favicon.svg', alt: '', width: 40, height: 40 })),
      h('h1', { id: 'login-title', class: 'page-title', tabindex: '-1' }, 'Sign in to flowhost'),
      h('p', { class: 'muted' }, 'Your tasks, processes and flows in one place.'),
      form)));
}
