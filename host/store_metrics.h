/* store_metrics — the numbers of GET /metrics that come from the database:
 * active tasks by flow task and status (read from the index task_status
 * alone) and jobs due (the due range of task_due), so finished processes
 * cost a scrape nothing. */
#ifndef STORE_METRICS_H
#define STORE_METRICS_H

#include <stdint.h>

#include "store.h"

/* Called once per (flow_task, status) with its count. */
typedef void (*store_count_fn)(void *arg, const char *flow_task, const char *status, int64_t n);

/* Tasks in an active status (NEW, ASSIGNED, STARTED, SCHEDULED, ERROR). */
int store_active_task_counts(store *st, store_count_fn fn, void *arg, fherr *err);
/* SCHEDULED tasks whose time has come (now: the stored timestamp form),
 * running ones included. */
int store_due_job_count(store *st, const char *now, int64_t *n, fherr *err);

/* The statements' text, for tests that check their query plans. */
extern const char STORE_ACTIVE_COUNTS_SQL[];
extern const char STORE_DUE_COUNT_SQL[];

#endif
