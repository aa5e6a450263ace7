/* status — the name tables of task and process statuses (see status.h).
 * Calls nothing. */
#include "status.h"

#include <string.h>

static const char *const TASK_NAMES[TASK__COUNT] = {
    [TASK_NEW] = "NEW",         [TASK_ASSIGNED] = "ASSIGNED", [TASK_STARTED] = "STARTED", [TASK_SCHEDULED] = "SCHEDULED",
    [TASK_DONE] = "DONE",       [TASK_CANCELED] = "CANCELED", [TASK_ERROR] = "ERROR",     [TASK_REVIVED] = "REVIVED",
};

static const char *const PROC_NAMES[PROC__COUNT] = {
    [PROC_NEW] = "NEW", [PROC_STARTED] = "STARTED", [PROC_DONE] = "DONE", [PROC_CANCELED] = "CANCELED",
};

const char *task_status_name(task_status s) { return (unsigned)s < TASK__COUNT ? TASK_NAMES[s] : "UNKNOWN"; }
const char *proc_status_name(proc_status s) { return (unsigned)s < PROC__COUNT ? PROC_NAMES[s] : "UNKNOWN"; }

static int parse(const char *const *names, int n, const char *name) {
  for (int i = 0; name && i < n; i++)
    if (!strcmp(names[i], name)) return i;
  return -1;
}

int task_status_parse(const char *name) { return parse(TASK_NAMES, TASK__COUNT, name); }
int proc_status_parse(const char *name) { return parse(PROC_NAMES, PROC__COUNT, name); }
