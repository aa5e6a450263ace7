// Statuses of tasks, processes and flows, named in one place: every other
// module compares against these constants instead of spelling a status.
// style.css has a .st-<STATUS> class (and --st-<STATUS>-* colours) for each.

/** Task and process statuses as the API sends them (upper case). */
export const STATUS = Object.freeze({
  NEW: 'NEW',
  ASSIGNED: 'ASSIGNED',
  STARTED: 'STARTED',
  SCHEDULED: 'SCHEDULED',
  DONE: 'DONE',
  CANCELED: 'CANCELED',
  ERROR: 'ERROR',
  REVIVED: 'REVIVED',
});

/** Every task status, in the order of the chart legend and filters. */
export const TASK_STATUSES = Object.freeze([
  STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED,
  STATUS.DONE, STATUS.CANCELED, STATUS.ERROR, STATUS.REVIVED,
]);

/** Every process status. */
export const PROCESS_STATUSES = Object.freeze([STATUS.NEW, STATUS.STARTED, STATUS.DONE, STATUS.CANCELED]);

/** A process in one of these may still change (and be canceled). */
export const ACTIVE_PROCESS_STATUSES = Object.freeze([STATUS.NEW, STATUS.STARTED]);

/** The load status of a flow file in GET /api/flows (lower case). */
export const FLOW_STATUS = Object.freeze({ OK: 'ok', ERROR: 'error' });

const STATUS_WORDS = Object.freeze({
  [STATUS.NEW]: 'New', [STATUS.ASSIGNED]: 'Assigned', [STATUS.STARTED]: 'Started',
  [STATUS.SCHEDULED]: 'Scheduled', [STATUS.DONE]: 'Done', [STATUS.CANCELED]: 'Canceled',
  [STATUS.ERROR]: 'Error', [STATUS.REVIVED]: 'Revived', OK: 'Loaded',
});

/** A status from the API as a STATUS key: upper case, letters and '_' only ('' if none). */
export function statusKey(status) {
  return String(status || '').toUpperCase().replace(/[^A-Z_]/g, '');
}

/** The label shown for a status. */
export function statusWord(status) {
  const s = String(status || '').toUpperCase();
  return STATUS_WORDS[s] || (s ? s.charAt(0) + s.slice(1).toLowerCase() : 'Unknown');
}
