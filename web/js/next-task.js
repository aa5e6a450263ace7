// Where to go after Complete: the user's next task of the same process (one the action
// just gave them, else one in their inbox, else one in the queue they may take), or
// null: back to the inbox.

import * as api from './api.js';
import { nextForMe } from './actions.js';

async function firstOf(view, processId) {
  const res = await api.get('/api/tasks', { view, process: processId, limit: 1, sort: 'created_at' });
  const items = (res && res.items) || [];
  return items.length ? items[0].id : null;
}

/** The id of the task to open after `task` was completed with result `res`, or null. */
export async function nextTaskAfter(task, res) {
  const mine = nextForMe(res && res.tasks).filter((t) => t.id !== task.id && String(t.process_id) === String(task.process_id));
  if (mine.length) return mine[0].id;
  try {
    return (await firstOf('inbox', task.process_id)) ?? (await firstOf('queue', task.process_id));
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 401) throw e;
    return null; // a look-up that fails leaves the inbox as the way on
  }
}
