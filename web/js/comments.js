// Comments on a process or on one of its tasks (issue 15): the list, oldest first, and a form
// to add one. GET/POST /api/processes/{id}/comments and /api/tasks/{id}/comments.

import * as api from './api.js';
import { h, setContent, timeEl, flashError, setBusy } from './dom.js';
import { seg } from './router.js';

export const COMMENT_MAX = 4000;

function commentItem(c) {
  return h('li', { class: 'comment', testid: 'comment', 'data-comment-id': c.id },
    h('p', { class: 'comment-head' },
      h('strong', null, c.author || 'the system'), ' · ', timeEl(c.created_at),
      c.task_id != null ? [' · ', h('a', { href: `#/tasks/${seg(c.task_id)}`, class: 'subtle-link' }, `task #${c.task_id}`)] : null),
    h('p', { class: 'comment-text', testid: 'comment-text' }, c.text));
}

/**
 * The comments panel of a process (processId) or of a task (taskId). It loads its list
 * itself; a 403 (a task seen only from the queue) shows a note instead.
 */
export function commentsPanel({ processId, taskId }) {
  const path = taskId != null ? `/api/tasks/${seg(taskId)}/comments` : `/api/processes/${seg(processId)}/comments`;
  const list = h('ul', { class: 'comment-list', testid: 'comment-list' });
  const title = h('h2', { class: 'panel-title', id: `comments-title-${taskId ?? processId}` }, 'Comments');
  const text = h('textarea', {
    id: `comment-text-${taskId ?? processId}`, rows: 3, maxlength: COMMENT_MAX, required: true, testid: 'comment-input',
  });
  const button = h('button', { type: 'submit', class: 'btn', testid: 'comment-add' }, 'Add comment');
  const form = h('form', { class: 'comment-form', testid: 'comment-form' },
    h('label', { for: text.id }, 'Add a comment'), text, h('div', { class: 'form-actions' }, button));
  const panel = h('section', { class: 'panel comments-panel', 'aria-labelledby': title.id, testid: 'comments-panel' },
    title, list, form);

  const load = async () => {
    try {
      const res = await api.get(path);
      const items = (res && res.items) || [];
      setContent(title, `Comments (${items.length})`);
      setContent(list, items.length ? items.map(commentItem) : h('li', { class: 'muted' }, 'No comments yet.'));
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 403) {
        setContent(list, h('li', { class: 'muted' }, 'Take the task to see and add comments.'));
        form.hidden = true;
        return;
      }
      setContent(list, h('li', { class: 'muted' }, api.describeError(e, 'load the comments')));
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) return;
    setBusy(button, true);
    try {
      await api.post(path, { text: text.value });
      text.value = '';
      await load();
    } catch (e) {
      flashError(api.describeError(e, 'add the comment'));
    } finally {
      setBusy(button, false);
    }
  });
  load();
  return panel;
}

/** The comment box of an execute form; required for a View with comment = "required". */
export function commentField(required) {
  const input = h('textarea', {
    id: 'execute-comment', name: 'comment', rows: 3, maxlength: COMMENT_MAX, required, testid: 'execute-comment',
  });
  const row = h('div', { class: 'field' },
    h('label', { for: input.id }, required ? 'Comment (required)' : 'Comment (optional)'), input);
  return { row, value: () => input.value.trim() ? input.value : null, input };
}
