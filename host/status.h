/* status — the task and process statuses as enums, with their one name table.
 *
 * Inside the host a status is always one of these enums; its name appears
 * only at the edges: the store converts to and from the text column, the
 * JSON views print it, query parameters are parsed with status_*_parse().
 * The web UI keeps its own copy of the same names in web/js/status.js.
 */
#ifndef STATUS_H
#define STATUS_H

typedef enum {
  TASK_NEW, TASK_ASSIGNED, TASK_STARTED, TASK_SCHEDULED, TASK_DONE, TASK_CANCELED, TASK_ERROR, TASK_REVIVED,
  TASK__COUNT
} task_status;

typedef enum { PROC_NEW, PROC_STARTED, PROC_DONE, PROC_CANCELED, PROC__COUNT } proc_status;

const char *task_status_name(task_status s);
const char *proc_status_name(proc_status s);
/* The status named `name`, or -1 for an unknown name. */
int task_status_parse(const char *name);
int proc_status_parse(const char *name);

/* Active tasks still hold a token of the process: NEW, ASSIGNED, STARTED,
 * SCHEDULED and ERROR (a manager may revive or cancel it). */
static inline int task_status_is_active(task_status s) {
  return s == TASK_NEW || s == TASK_ASSIGNED || s == TASK_STARTED || s == TASK_SCHEDULED || s == TASK_ERROR;
}
/* A process takes actions only while NEW or STARTED. */
static inline int proc_status_is_running(proc_status s) { return s == PROC_NEW || s == PROC_STARTED; }

#endif
