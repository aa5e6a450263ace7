/* metrics — the host's counters and histograms for `GET /metrics`
 * (Prometheus text exposition format 0.0.4, http-api.md "Operations").
 *
 * One process-wide set of C11 atomics: every unit that has something to
 * count calls one function here at the place it happens (one line), from
 * any thread, without a lock.  Label sets are closed enums or small fixed
 * tables, so the answer stays bounded whatever the traffic (HTTP requests
 * are counted by route pattern, never by raw path).
 *
 * What comes from the database (tasks by flow/node/status, jobs due) is not
 * counted here: the engine reads it at scrape time (engine_metrics.h) and
 * appends it to the same buffer with the metrics_buf helpers below.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

/* Write actions of the engine, by kind. */
typedef enum {
  METRICS_ACTION_START,
  METRICS_ACTION_TASK,           /* + ENGINE_ACTIONS index: assign, unassign, ... revive (7 of them) */
  METRICS_ACTION_PROCESS_CANCEL = METRICS_ACTION_TASK + 7,
  METRICS_ACTION_MESSAGE,
  METRICS_ACTION_SIGNAL,
  METRICS_ACTION_JOB,            /* a job, timer or boundary timer run by a worker */
  METRICS_ACTION__COUNT
} metrics_action;

/* What became of a job (or timer) a worker claimed. */
typedef enum {
  METRICS_JOB_DONE,          /* its result was written */
  METRICS_JOB_RETRIED,       /* it raised; it runs again after its backoff */
  METRICS_JOB_FAILED,        /* it raised with no attempt left: ERROR */
  METRICS_JOB_DROPPED,       /* canceled or taken by another worker meanwhile */
  METRICS_JOB__COUNT
} metrics_job;

/* External tasks (issue 15, worked by outside workers over HTTP).  The
 * counters exist and are exported (as 0) so that dashboards can be made
 * now; the external-task unit calls metrics_external() where each happens. */
typedef enum {
  METRICS_EXTERNAL_FETCHED,        /* handed to a worker by fetch-and-lock */
  METRICS_EXTERNAL_COMPLETED,      /* completed by its worker */
  METRICS_EXTERNAL_FAILED,         /* failed by its worker (retried or ERROR) */
  METRICS_EXTERNAL_LEASE_EXPIRED,  /* offered again because its lease ran out */
  METRICS_EXTERNAL__COUNT
} metrics_external_event;

/* Marks the process start (for flowhost_process_start_time_seconds);
 * the first call wins.  Called by `serve`; NULL-safe to skip. */
void metrics_process_started(void);

/* started: fhtime_monotonic() when the action began; rc: its fherr code. */
void metrics_action_done(metrics_action kind, int rc, double started);
/* An action found its process written by another action (another host,
 * or a write without the process lock) and started over. */
void metrics_action_restarted(void);
/* How many did so far (tests). */
unsigned long metrics_action_restarts(void);
/* One commit of the group-commit writer carrying `actions` actions
 * (rc != 0: the commit failed, all of them with it). */
void metrics_commit(int actions, int rc);
/* One sync of SQLite's write-ahead log by the group commit (synchronous=
 * FULL): how long it took and how many actions it made durable; ok = 0:
 * it failed (nothing written after it is durable). */
void metrics_wal_sync(double seconds, unsigned long actions, int ok);
/* The WAL syncs so far, the actions they made durable and the syncs that
 * failed (benchmarks, tests). */
void metrics_wal_sync_totals(unsigned long *syncs, unsigned long *actions, unsigned long *failures);
void metrics_job_outcome(metrics_job what);
/* A worker runs a job now (+1) or no longer (-1). */
void metrics_job_running(int delta);
/* A job whose previous lease had run out was claimed again. */
void metrics_job_lease_expired(void);
void metrics_external(metrics_external_event what);
/* A flow file compiled (at start or on hot reload); failed: with an error. */
void metrics_flow_load(int failed);
/* One outermost protected Lua call and how long it took. */
void metrics_lua_call(double seconds);

/* HTTP requests by route.  metrics_http_route() turns a route (method and
 * pattern, e.g. "GET", "/api/tasks/", "{id}") into a slot, registering it
 * on first use: call it with the same static strings each time (they are
 * compared by address first).  Past METRICS_HTTP_ROUTES routes every new
 * one shares the slot "other". */
#define METRICS_HTTP_ROUTES 96
int metrics_http_route(const char *method, const char *prefix, const char *pattern);
void metrics_http_request(int route, int status, double seconds);
/* The HTTP listener's open connections per worker thread (not the
 * metrics listener's): metrics_http_workers says how many workers there
 * are (at most METRICS_HTTP_WORKERS are shown), metrics_http_connections
 * counts one more (delta 1) or one fewer (-1) on one of them. */
#define METRICS_HTTP_WORKERS 256
void metrics_http_workers(int n);
void metrics_http_connections(int worker, int delta);
/* The writes the executor threads hold (host/http_exec.c): queued for one,
 * or being answered; each delta 1, -1 or 0. */
void metrics_http_writes(int queued_delta, int running_delta);

/* --- the exposition ---------------------------------------------------------- */

typedef struct metrics_buf {
  char *text;     /* malloc'd, NUL-terminated; NULL after a failed allocation */
  size_t len, cap;
  int failed;     /* out of memory: the answer is incomplete */
} metrics_buf;

void metrics_buf_printf(metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help\n# TYPE name type\n" */
void metrics_buf_header(metrics_buf *b, const char *name, const char *type, const char *help);
/* A label value, escaped as the format wants (\\, \" and \n). */
void metrics_buf_label(metrics_buf *b, const char *value);
void metrics_buf_free(metrics_buf *b);

/* Appends every counter of this unit (and the build and start info). */
void metrics_render(metrics_buf *b);

#endif
