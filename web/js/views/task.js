// One task: its form (editable when the API allows execute), the process data beside it,
// and a button for each action in `actions` — nothing more, nothing less.

import { durationEl, priorityEl } from '../format.js';
import * as api from '../api.js';
import { flowErrorBlock } from '../flow-error.js';
import {
  h, setContent, badge, timeEl, dueEl, fullTime, pageHeader, dataList, flashError,
} from '../dom.js';
import { STATUS, statusKey, statusWord } from '../status.js';
import { refresh, seg, navigate } from '../router.js';
import { nextTaskAfter } from '../next-task.js';
import { buildForm, normalizeFields } from '../forms.js';
import { commentsPanel, commentField } from '../comments.js';
import { tryFlowDef, getFlows } from '../flows-cache.js';
import {
  ACTION_ORDER, runTaskAction, actionButton, taskName, taskTitle,
} from '../actions.js';
import { username } from '../session.js';
import {
  isReceive, isTimeout, waitsForText, timeoutState, nodeTitle, timeoutsOf,
} from '../events.js';
import { timeoutList, isOpen } from '../event-ui.js';
import { isExternal, externalPanel } from '../external.js';
import {
  isController, isInstance, isSubprocess, controllerOf, instancesOf, groupProgress, progressText,
  instanceText, instanceItem, childOf,
} from '../compose.js';

export async function taskView(ctx) {
  const id = ctx.params.id;
  const res = await api.get(`/api/tasks/${seg(id)}`);
  const task = res.task || {};
  const actions = Array.isArray(res.actions) ? res.actions : [];
  const fields = normalizeFields(res.form && res.form.fields);

  const [procRes, def, flows] = await Promise.all([
    api.get(`/api/processes/${seg(task.process_id)}`).catch((e) => {
      if (e instanceof api.ApiError && e.status === 401) throw e;
      return { error: e };
    }),
    tryFlowDef(task.flow),
    isSubprocess(task) ? getFlows().catch(() => []) : [],
  ]);
  if (!ctx.alive()) return;

  const name = taskName(task, def);
  const status = String(task.status || '').toUpperCase();
  const canExecute = actions.includes('execute');
  document.title = `${name} #${task.id} · flowhost`;

  // ------------------------------------------------------------ the form
  const formErr = h('div', { class: 'form-error', testid: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const showFormError = (content) => { setContent(formErr, content); formErr.hidden = false; };

  let note = null;
  if (!canExecute && fields.length) {
    if (status === STATUS.NEW && actions.includes('assign')) note = 'Assign this task to yourself to fill in the form.';
    else if (status === STATUS.NEW) note = 'This task waits in the queue of the people who may take it.';
    else if (status === STATUS.ASSIGNED && task.owner && task.owner !== username()) note = `Assigned to ${task.owner}; only they can complete it.`;
    else if (status === STATUS.DONE) note = 'This task is done; the form shows the current values.';
    else if (status === STATUS.CANCELED) note = 'This task was canceled.';
    else note = 'The form is read-only in this state.';
  }

  // a View with comment = "required" takes a comment with its execute (optional for the others)
  const nodeDef = def && def.nodes && def.nodes.find((n) => n.name === task.node);
  const comment = canExecute && task.type === 'view' ? commentField(!!(nodeDef && nodeDef.comment === 'required')) : null;
  const form = buildForm({
    fields,
    idPrefix: 'task',
    disabled: !canExecute,
    submitLabel: canExecute ? 'Complete' : null,
    submitTestid: 'action-execute',
    ariaLabel: name,
    emptyText: canExecute ? 'This task needs no input; complete it when the work is done.' : null,
    onLocalErrors: () => showFormError('Please correct the fields marked below.'),
    onSubmit: async (data, f) => {
      const here = location.hash;   // the page the action was sent from
      formErr.hidden = true;
      if (comment && comment.input.required && !comment.value()) {
        showFormError('This step needs a comment.');
        comment.input.focus();
        return;
      }
      const r = await runTaskAction(task, 'execute', {
        body: comment && comment.value() ? { data, comment: comment.value() } : { data },
        def,
        keepFlash: true,
        onInvalid: (e) => {
          const rest = Object.entries(f.setErrors(e.fields || {}));
          showFormError([
            e.message && e.message !== 'invalid' ? api.sentence(e.message) : 'Please correct the fields marked below.',
            rest.length ? h('ul', null, rest.map(([k, m]) => h('li', null, `${k}: ${m}`))) : null,
          ]);
          if (!f.focusFirstError()) formErr.focus();
          flashError(api.describeError(e, 'complete the task'));
        },
        onError: (e) => {
          if (e.code === 'flow_error') {
            showFormError(flowErrorBlock(e, 'complete the task'));
          }
        },
      });
      // after Complete: the next task of this process for this user, else the inbox — unless
      // the user went on meanwhile (the flash's next-task link): going there again would
      // render that page a second time and drop what they have started typing into it
      if (r) {
        const next = await nextTaskAfter(task, r);
        if (location.hash === here) navigate(next != null ? `/tasks/${seg(next)}` : '/inbox');
      }
    },
  });
  if (form.submit) form.submit.setAttribute('data-action', 'execute');
  if (comment && form.submit) {
    const before = form.submit.closest('.form-actions') || form.submit;
    before.parentNode.insertBefore(comment.row, before);
  }

  // a group's controller is the engine's: its node's form belongs to the instances
  const formSection = !isController(task) && (fields.length || canExecute) ? h('section', { class: 'panel form-panel', 'aria-labelledby': 'task-form-title', testid: 'task-form' },
    h('h2', { class: 'panel-title', id: 'task-form-title' }, canExecute ? 'Your input' : 'Form'),
    note ? h('p', { class: 'form-note', testid: 'form-note' }, note) : null,
    canExecute && fields.some((f) => f.required) ? h('p', { class: 'form-note', 'aria-hidden': 'true' }, 'Fields marked * are required.') : null,
    formErr,
    form.form) : null;

  // ------------------------------------------------------------ other actions
  const others = ACTION_ORDER.filter((a) => a !== 'execute' && actions.includes(a));
  const buttons = others.map((a) => {
    if (a === 'reassign') return reassignControl(task);
    return actionButton(task, a, async (ev) => {
      const r = await runTaskAction(task, a, { button: ev.currentTarget, def });
      if (r) refresh();
    });
  });
  // the engine completes receivers and timeouts itself: their notice says what happens instead
  const engineTask = isReceive(task) || isTimeout(task) || isController(task) || isSubprocess(task) || isExternal(task);
  const actionBar = buttons.length || canExecute || !engineTask
    ? h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Task actions', testid: 'task-actions' },
      buttons.length ? buttons : (canExecute ? null : h('p', { class: 'muted' }, 'There is nothing you can do with this task now.')))
    : null;

  // ------------------------------------------------------------ events: what it waits for, its timeouts
  const procTasks = (procRes && Array.isArray(procRes.tasks)) ? procRes.tasks : [];
  const guardedBy = timeoutsOf(procTasks, task.id);
  const eventPanel = eventNotice(task, def, status, procTasks) || externalPanel(task, status);
  const composePanel = composeNotice(task, def, status, procTasks, (procRes && procRes.children) || [], flows);
  const timeoutsPanel = guardedBy.length ? h('section', { class: 'panel', 'aria-labelledby': 'task-timeouts-title', testid: 'task-timeouts' },
    h('h2', { class: 'panel-title', id: 'task-timeouts-title' }, 'Timeouts of this task'),
    timeoutList(guardedBy, def, { showGuard: false, tasks: procTasks })) : null;

  // ------------------------------------------------------------ facts
  const facts = h('dl', { class: 'facts', testid: 'task-facts' },
    fact('Status', badge(status, 'task-status')),
    fact('Owner', task.owner ? h('span', { testid: 'task-owner' }, task.owner) : h('span', { class: 'muted', testid: 'task-owner' }, 'nobody')),
    fact('Flow', (def && def.title) || task.flow),
    fact('Node', h('code', null, task.node)),
    fact('Type', task.type || '—'),
    task.due_at ? fact(isTimeout(task) ? 'Fires' : (status === STATUS.SCHEDULED ? (isExternal(task) ? 'Offered' : 'Runs') : 'Due'),
      h('span', { testid: 'task-due' }, dueEl(task), h('span', { class: 'muted small due-abs' }, fullTime(task.due_at)))) : null,
    task.waits_for ? fact('Waits for', h('span', { testid: 'task-waits-for' }, waitsForText(task))) : null,
    isInstance(task) ? fact('Item', h('span', { testid: 'task-item-fact' }, instanceItem(task) || '—')) : null,
    isInstance(task) ? fact('Group', h('a', { href: `#/tasks/${seg(task.group_id)}`, testid: 'task-group-link' }, `#${task.group_id}`)) : null,
    isSubprocess(task) && task.child_id != null
      ? fact('Child process', h('a', { href: `#/processes/${seg(task.child_id)}` }, `#${task.child_id}`)) : null,
    isTimeout(task) && task.timeout ? fact('Guards', task.timeout.guards
      ? h('a', { href: `#/tasks/${seg(task.timeout.guards)}`, testid: 'timeout-guards' }, `${nodeTitle(def, task.node)} #${task.timeout.guards}`)
      : nodeTitle(def, task.node)) : null,
    isTimeout(task) && task.timeout ? fact('Goes to', h('span', null, nodeTitle(def, task.timeout.node), ' ', h('code', null, task.timeout.node))) : null,
    isTimeout(task) && task.timeout ? fact('Interrupting', task.timeout.interrupting === false ? 'No: the task stays open' : 'Yes: cancels the task') : null,
    fact('Created', timeEl(task.created_at)),
    task.assigned_at ? fact('Assigned', timeEl(task.assigned_at)) : null,
    task.started_at ? fact('Started', timeEl(task.started_at)) : null,
    task.finished_at ? fact('Finished', timeEl(task.finished_at)) : null,
    task.finished_at ? fact('Took', durationEl(task.created_at, task.finished_at, { testid: 'task-took' })) : null,
    task.priority ? fact('Priority', priorityEl(task)) : null,
    task.attempts != null ? fact('Failed attempts', h('span', { testid: 'task-attempts' }, String(task.attempts))) : null,
    task.token ? fact('Token', h('code', null, task.token)) : null,
    Array.isArray(task.previous) && task.previous.length
      ? fact('After', task.previous.map((p, i) => [i ? ', ' : '', h('a', { href: `#/tasks/${seg(p)}` }, `#${p}`)]))
      : null);

  const errorBox = task.error ? h('section', { class: 'panel error-panel', testid: 'task-error', 'aria-labelledby': 'task-error-title' },
    h('h2', { class: 'panel-title', id: 'task-error-title' }, 'Error'),
    h('p', { class: 'error-message', testid: 'task-error-message' }, task.error.message || 'Unknown error'),
    task.error.traceback ? h('details', { class: 'traceback' },
      h('summary', null, 'Traceback'),
      h('pre', { testid: 'task-error-traceback' }, task.error.traceback)) : null) : null;

  // ------------------------------------------------------------ the process beside it
  let aside;
  if (procRes && procRes.process) {
    const p = procRes.process;
    aside = h('aside', { class: 'panel side-panel', 'aria-labelledby': 'proc-title', testid: 'process-data' },
      h('h2', { class: 'panel-title', id: 'proc-title' }, 'Process ',
        h('a', { href: `#/processes/${seg(p.id)}`, testid: 'process-link' }, `#${p.id}`)),
      h('p', { class: 'side-summary' }, p.summary || (def && def.title) || p.flow, ' ', badge(p.status, 'process-status')),
      h('p', { class: 'muted small' }, 'Started by ', p.created_by || 'the system', ', ', timeEl(p.created_at)),
      p.parent && p.parent.process_id ? h('p', { class: 'muted small', testid: 'task-process-parent' }, 'Part of ',
        h('a', { href: `#/processes/${seg(p.parent.process_id)}` }, `process #${p.parent.process_id}`), '.') : null,
      h('h3', { class: 'side-subtitle' }, 'Data'),
      dataList(p.data, (def && def.fields) || fields, 'process-data-list'));
  } else {
    aside = h('aside', { class: 'panel side-panel', testid: 'process-data' },
      h('h2', { class: 'panel-title' }, 'Process ', h('a', { href: `#/processes/${seg(task.process_id)}` }, `#${task.process_id}`)),
      h('p', { class: 'muted' }, procRes && procRes.error ? api.describeError(procRes.error, 'load the process data') : 'No process data.'));
  }

  const summary = procRes && procRes.process && procRes.process.summary;
  ctx.mount(
    pageHeader(h('span', null, name, ' ', h('span', { class: 'id-chip id-chip-lg' }, `#${task.id}`)), {
      crumbs: [listCrumb(task, status), [`Process #${task.process_id}`, `#/processes/${seg(task.process_id)}`], [name, null]],
      sub: summary || null,
      actions: badge(status),
    }),
    h('div', { class: 'task-layout', testid: 'task-page', 'data-task-id': task.id, 'data-status': status },
      h('div', { class: 'task-main' },
        composePanel,
        eventPanel,
        actionBar,
        errorBox,
        formSection,
        timeoutsPanel,
        commentsPanel({ taskId: task.id })),
      aside,
      h('section', { class: 'panel task-details', 'aria-labelledby': 'task-facts-title' },
        h('h2', { class: 'panel-title', id: 'task-facts-title' }, 'Details'),
        facts)),
  );
}

/** For a receiver or a timeout: what it waits for and what happens next (null for other tasks). */
function eventNotice(task, def, status, procTasks) {
  if (isReceive(task) && task.waits_for) {
    const waiting = status === STATUS.STARTED || status === STATUS.NEW || status === STATUS.ASSIGNED;
    const w = task.waits_for;
    return h('section', { class: 'panel event-panel', 'aria-labelledby': 'event-title', testid: 'waits-for-panel', 'data-status': status },
      h('h2', { class: 'panel-title', id: 'event-title' }, waiting ? 'Waiting' : 'Event'),
      h('p', { class: 'event-lead', testid: 'waits-for' }, waitsForText(task)),
      waiting ? h('p', { class: 'muted small' },
        'The process goes on by itself when it arrives; nobody needs to work on this task. ',
        w.signal ? `Programs raise it with POST /api/signals/${w.signal}.`
          : `Programs send it with POST /api/messages/${w.message}${w.key != null ? ` and the key “${w.key}”` : ''}.`) : null);
  }
  if (isTimeout(task) && task.timeout) {
    const state = timeoutState(task);
    const target = nodeTitle(def, task.timeout.node);
    const interrupting = task.timeout.interrupting !== false;
    let text;
    if (state === 'armed') {
      text = [task.due_at ? ['Armed: ', dueEl(task, 'timeout-due'), ` (${fullTime(task.due_at)}). `] : 'Armed. ',
        `When it fires, it ${interrupting ? `cancels ${nodeTitle(def, task.node)} and goes on to ${target}` : `starts ${target} while ${nodeTitle(def, task.node)} stays open`}.`];
    } else if (state === 'fired') {
      text = ['Fired ', timeEl(task.finished_at), interrupting ? `: it canceled ${nodeTitle(def, task.node)} and went on to ${target}.` : `: it started ${target} beside ${nodeTitle(def, task.node)}.`];
    } else if (state === 'disarmed') {
      const guard = procTasks.find((x) => Number(x.id) === Number(task.timeout.guards));
      text = ['Disarmed ', timeEl(task.finished_at), isOpen(guard)
        ? `: it will not fire; ${nodeTitle(def, task.node)} is still open.`
        : `: ${nodeTitle(def, task.node)} ended before it fired.`];
    } else {
      text = `This timeout is ${state}.`;
    }
    return h('section', { class: 'panel event-panel', 'aria-labelledby': 'event-title', testid: 'timeout-panel', 'data-state': state },
      h('h2', { class: 'panel-title', id: 'event-title' }, 'Timeout'),
      h('p', { class: 'event-lead', testid: 'timeout-text' }, text));
  }
  return null;
}

/**
 * Composition: a group's controller (its progress and instances), an instance ("Instance
 * 2 of 3: bob", its group), a Subprocess task ("Child process #4 — Started"); else null.
 */
function composeNotice(task, def, status, procTasks, children, flows) {
  const panels = [];
  if (isController(task)) {
    const instances = instancesOf(task, procTasks);
    const progress = groupProgress(task, procTasks.length ? procTasks : null);
    const running = status === STATUS.STARTED;
    panels.push(h('section', { class: 'panel group-panel', 'aria-labelledby': 'group-title', testid: 'group-panel', 'data-status': status },
      h('h2', { class: 'panel-title', id: 'group-title' }, 'Multiple instances'),
      h('p', { class: 'event-lead', testid: 'group-progress' }, `${taskTitle(task, def)} — ${progressText(progress)}`),
      h('p', { class: 'muted small' }, running
        ? 'This task stands for the whole group: the engine runs it, and the process goes on when enough of the instances below are done. Nobody works on it.'
        : 'This task stood for the whole group; the engine ran it.'),
      instances.length ? h('ul', { class: 'instance-list', testid: 'instance-list' }, instances.map((t) => h('li', {
        class: 'instance-entry', testid: 'instance-entry', 'data-task-id': t.id, 'data-status': statusKey(t.status), 'data-item': instanceItem(t),
      },
      h('a', { href: `#/tasks/${seg(t.id)}`, class: 'event-link' }, instanceText(t, procTasks)), ' ',
      badge(t.status), t.owner ? h('span', { class: 'muted small' }, ` ${t.owner}`) : null,
      isSubprocess(t) && t.child_id != null ? [' · ', h('a', { href: `#/processes/${seg(t.child_id)}` }, `process #${t.child_id}`)] : null)))
        : h('p', { class: 'muted' }, 'No instances yet.')));
  }
  if (isInstance(task)) {
    const c = controllerOf(task, procTasks);
    panels.push(h('section', { class: 'panel instance-panel', 'aria-label': 'Instance of a group', testid: 'instance-panel' },
      h('p', { class: 'event-lead', testid: 'instance-info' }, instanceText(task, procTasks)),
      h('p', { class: 'muted small' }, 'One of the tasks of ',
        h('a', { href: `#/tasks/${seg(task.group_id)}`, testid: 'instance-group-link' }, `${taskTitle(task, def)} (#${task.group_id})`),
        c ? [': ', h('span', { testid: 'instance-group-progress' }, progressText(groupProgress(c, procTasks)))] : null, '.')));
  }
  if (isSubprocess(task)) {
    const child = childOf(task, children);
    const f = child && child.flow ? flows.find((x) => x.name === child.flow) : null;
    const childFlow = child && child.flow ? ((f && f.title) || child.flow) : null;
    let body;
    if (child) {
      body = [
        h('p', { class: 'event-lead' },
          h('a', { href: `#/processes/${seg(child.id)}`, testid: 'child-process' },
            `Child process #${child.id}${child.status ? ` — ${statusWord(child.status)}` : ''}`)),
        h('p', { class: 'muted small' }, childFlow ? `A process of ${childFlow}. ` : '',
          status === STATUS.STARTED ? 'This task waits until it ends; the process goes on by itself then.' : null,
          status === STATUS.ERROR ? 'The child process did not finish: a manager may revive this task, which starts a new child, or cancel it.' : null),
      ];
    } else if (status === STATUS.SCHEDULED || status === STATUS.NEW) {
      body = h('p', { class: 'event-lead', testid: 'child-process' }, 'The child process starts in a moment.');
    } else {
      body = h('p', { class: 'muted', testid: 'child-process' }, 'No child process is running for this task.');
    }
    panels.push(h('section', { class: 'panel subprocess-panel', 'aria-labelledby': 'subprocess-title', testid: 'subprocess-panel' },
      h('h2', { class: 'panel-title', id: 'subprocess-title' }, 'Subprocess'), body));
  }
  return panels.length ? panels : null;
}

/** Where this task is listed for me: the first breadcrumb. */
function listCrumb(task, status) {
  const mine = task.owner && task.owner === username();
  if (status === STATUS.NEW) return ['Queue', '#/queue'];
  if (status === STATUS.ASSIGNED && mine) return ['Inbox', '#/inbox'];
  if ((status === STATUS.DONE || status === STATUS.CANCELED) && mine) return ['Archive', '#/archive'];
  return ['Processes', '#/processes'];
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, value));
}

let reassignSeq = 0;
function reassignControl(task) {
  const id = `reassign-${++reassignSeq}`;
  const input = h('input', {
    id, type: 'text', name: 'user', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
    testid: 'reassign-user', placeholder: 'user name', required: true,
  });
  // a manager hands a NEW task to a named person, or an ASSIGNED one to another
  const label = task.status === 'NEW' ? 'Assign to' : 'Reassign';
  const button = h('button', { type: 'submit', class: 'btn', testid: 'action-reassign', 'data-action': 'reassign' }, label);
  const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': 'Reassign the task' },
    h('label', { for: id, class: 'sr-only' }, 'Reassign to user'), input, button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const user = input.value.trim();
    if (!user) { flashError('Enter the user name to reassign the task to.'); input.focus(); return; }
    const r = await runTaskAction(task, 'reassign', { body: { user }, button });
    if (r) refresh();
  });
  return form;
}
