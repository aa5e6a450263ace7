// Forms generated from the flow's field schema (flow-dsl.md field types):
// string, text, integer, number, boolean, choice, date, email.
// buildForm() renders labelled controls, collects typed values and shows errors
// (ours and the API's `invalid` fields) beside the inputs.

import { h } from './dom.js';

/** The API may give fields as an ordered array or as a {name: field} map. */
export function normalizeFields(fields) {
  if (Array.isArray(fields)) return fields.filter((f) => f && f.name);
  if (fields && typeof fields === 'object') {
    return Object.entries(fields).map(([name, f]) => ({ ...(f || {}), name }));
  }
  return [];
}

let formSeq = 0;

function initialValue(field, values) {
  if (values && Object.prototype.hasOwnProperty.call(values, field.name)) return values[field.name];
  if (field.value !== undefined && field.value !== null) return field.value;
  if (field.default !== undefined) return field.default;
  return null;
}

function controlFor(field, id, describedBy, value) {
  const common = {
    id, name: field.name, testid: `field-${field.name}`,
    'aria-describedby': describedBy || null,
    'aria-required': field.required ? 'true' : null,
  };
  const str = value === null || value === undefined ? '' : String(value);
  switch (field.type) {
    case 'text':
      return h('textarea', {
        ...common, rows: 5, maxlength: field.max_length || null, value: str,
      });
    case 'integer':
      return h('input', {
        ...common, type: 'number', step: '1', inputmode: 'numeric',
        min: field.min ?? null, max: field.max ?? null, value: str,
      });
    case 'number':
      return h('input', {
        ...common, type: 'number', step: 'any', inputmode: 'decimal',
        min: field.min ?? null, max: field.max ?? null, value: str,
      });
    case 'boolean':
      return h('input', { ...common, type: 'checkbox', checked: value === true || value === 'true' });
    case 'choice': {
      const choices = Array.isArray(field.choices) ? field.choices : [];
      const select = h('select', common,
        h('option', { value: '' }, field.required ? 'Choose…' : '—'),
        choices.map((c) => {
          const v = c && typeof c === 'object' ? c.value : c;
          const label = c && typeof c === 'object' ? (c.label ?? c.value) : c;
          return h('option', { value: String(v), selected: value !== null && value !== undefined && String(v) === str }, String(label));
        }));
      return select;
    }
    case 'date':
      return h('input', { ...common, type: 'date', value: str.slice(0, 10) });
    case 'email':
      return h('input', {
        ...common, type: 'email', autocomplete: 'email', inputmode: 'email', spellcheck: 'false', value: str,
      });
    case 'string':
    default:
      return h('input', {
        ...common, type: 'text', maxlength: field.max_length || null, value: str,
      });
  }
}

function hintText(field) {
  const parts = [];
  if (field.type === 'integer' || field.type === 'number') {
    if (field.min != null && field.max != null) parts.push(`From ${field.min} to ${field.max}.`);
    else if (field.min != null) parts.push(`At least ${field.min}.`);
    else if (field.max != null) parts.push(`At most ${field.max}.`);
  }
  if ((field.type === 'string' || field.type === 'text') && field.max_length) parts.push(`Up to ${field.max_length} characters.`);
  return parts.join(' ');
}

/**
 * buildForm({fields, values, disabled, submitLabel, submitTestid, onSubmit, extra, idPrefix})
 * onSubmit(data, api) is called with typed data after our own checks pass.
 * Returns {form, setErrors(map) → names not shown, clearErrors(), collect(), focusFirstError()}
 */
export function buildForm(opts) {
  const fields = normalizeFields(opts.fields);
  const prefix = `${opts.idPrefix || 'f'}${++formSeq}`;
  const rows = new Map();

  const fieldset = h('fieldset', { class: 'form-fields', disabled: !!opts.disabled });
  if (opts.legend) fieldset.appendChild(h('legend', { class: 'sr-only' }, opts.legend));

  for (const field of fields) {
    const id = `${prefix}-${field.name}`;
    const helpId = `${id}-help`;
    const errId = `${id}-error`;
    const hint = [field.help, hintText(field)].filter(Boolean).join(' ');
    const value = initialValue(field, opts.values);
    const control = controlFor(field, id, [hint ? helpId : null, errId].filter(Boolean).join(' '), value);
    const label = field.label || field.name;
    const req = field.required
      ? h('span', { class: 'req' }, h('span', { 'aria-hidden': 'true' }, ' *'), h('span', { class: 'sr-only' }, ' (required)'))
      : null;
    const err = h('p', { class: 'field-error', id: errId, testid: `error-${field.name}`, hidden: true });
    const help = hint ? h('p', { class: 'field-help', id: helpId }, hint) : null;
    let row;
    if (field.type === 'boolean') {
      row = h('div', { class: 'field field-check', 'data-field': field.name, 'data-type': 'boolean' },
        h('div', { class: 'check-line' }, control, h('label', { for: id }, label, req)),
        help, err);
    } else {
      row = h('div', { class: `field field-${field.type || 'string'}`, 'data-field': field.name, 'data-type': field.type || 'string' },
        h('label', { for: id }, label, req),
        control, help, err);
    }
    rows.set(field.name, { field, control, err, row });
    fieldset.appendChild(row);
  }

  const submit = opts.submitLabel ? h('button', {
    type: 'submit', class: 'btn btn-primary', testid: opts.submitTestid || 'form-submit', disabled: !!opts.disabled,
  }, opts.submitLabel) : null;

  const form = h('form', { class: 'form', novalidate: true, 'aria-label': opts.ariaLabel || null },
    fields.length ? fieldset : (opts.emptyText ? h('p', { class: 'muted' }, opts.emptyText) : null),
    h('div', { class: 'form-buttons' }, submit, opts.extra || null));

  function clearErrors() {
    for (const { control, err, row } of rows.values()) {
      err.textContent = '';
      err.hidden = true;
      control.removeAttribute('aria-invalid');
      row.classList.remove('has-error');
    }
  }

  /** Shows messages beside their fields; returns {name: msg} of those with no field here. */
  function setErrors(map) {
    const rest = {};
    for (const [name, msg] of Object.entries(map || {})) {
      const r = rows.get(name);
      const text = Array.isArray(msg) ? msg.join(' ') : String(msg);
      if (!r) { rest[name] = text; continue; }
      r.err.textContent = text;
      r.err.hidden = false;
      r.control.setAttribute('aria-invalid', 'true');
      r.row.classList.add('has-error');
    }
    return rest;
  }

  function focusFirstError() {
    for (const { control, row } of rows.values()) {
      if (row.classList.contains('has-error')) { control.focus(); return true; }
    }
    return false;
  }

  /** Typed data plus our own validation errors. */
  function collect() {
    const data = {};
    const errors = {};
    for (const { field, control } of rows.values()) {
      const name = field.name;
      if (field.type === 'boolean') { data[name] = control.checked; continue; }
      if (field.type === 'choice') {
        const raw = control.value;
        if (raw === '') { if (field.required) errors[name] = 'Choose one.'; continue; }
        const c = (field.choices || []).find((x) => String(x && typeof x === 'object' ? x.value : x) === raw);
        data[name] = c === undefined ? raw : (c && typeof c === 'object' ? c.value : c);
        continue;
      }
      const bad = control.validity && control.validity.badInput;
      const keepSpaces = field.type === 'text' || field.type === 'string';
      const raw = keepSpaces ? control.value : control.value.trim();
      if (bad) {
        errors[name] = field.type === 'integer' ? 'Enter a whole number.' : field.type === 'number' ? 'Enter a number.' : 'Enter a valid value.';
        continue;
      }
      if (raw.trim() === '') {
        if (field.required) errors[name] = 'This field is required.';
        continue; // empty optional inputs are omitted
      }
      switch (field.type) {
        case 'integer': {
          if (!/^[-+]?\d+$/.test(raw)) { errors[name] = 'Enter a whole number.'; break; }
          const n = Number(raw);
          if (!Number.isSafeInteger(n)) { errors[name] = 'This number is too large.'; break; }
          const rangeErr = rangeError(field, n);
          if (rangeErr) errors[name] = rangeErr; else data[name] = n;
          break;
        }
        case 'number': {
          const n = Number(raw);
          if (!Number.isFinite(n)) { errors[name] = 'Enter a number.'; break; }
          const rangeErr = rangeError(field, n);
          if (rangeErr) errors[name] = rangeErr; else data[name] = n;
          break;
        }
        case 'email':
          if (!/^[^\s@]+@[^\s@]+$/.test(raw)) errors[name] = 'Enter a valid email address.';
          else data[name] = raw;
          break;
        case 'date':
          if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) errors[name] = 'Enter a whole date: day, month and year.';
          else data[name] = raw;
          break;
        default:
          if (field.max_length && [...raw].length > field.max_length) {
            errors[name] = `Use at most ${field.max_length} characters (now ${[...raw].length}).`;
          } else data[name] = raw;
      }
    }
    return { data, errors };
  }

  if (opts.onSubmit) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (form.dataset.busy) return;
      clearErrors();
      const { data, errors } = collect();
      if (Object.keys(errors).length) {
        setErrors(errors);
        focusFirstError();
        if (opts.onLocalErrors) opts.onLocalErrors(errors);
        return;
      }
      form.dataset.busy = '1';
      if (submit) { submit.disabled = true; submit.setAttribute('aria-busy', 'true'); }
      try {
        await opts.onSubmit(data, api);
      } finally {
        delete form.dataset.busy;
        if (submit && submit.isConnected) { submit.disabled = !!opts.disabled; submit.removeAttribute('aria-busy'); }
      }
    });
  }

  const api = { form, fields, setErrors, clearErrors, focusFirstError, collect, submit };
  return api;
}

function rangeError(field, n) {
  if (field.min != null && n < field.min) return `Must be at least ${field.min}.`;
  if (field.max != null && n > field.max) return `Must be at most ${field.max}.`;
  return null;
}
