/* metrics — process-wide counters and histograms (C11 atomics) and their
 * rendering in the Prometheus text format 0.0.4.  See metrics.h.
 *
 * Every update is a relaxed atomic add: the numbers are statistics, not
 * synchronization, and a scrape that sees a bucket a moment before its sum
 * is still a valid sample.  Durations are summed in microseconds in an
 * integer (C11 has no atomic add for doubles) and shown in seconds.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fherr.h"
#include "fhtime.h"
#include "metrics.h"
#include "metrics_db.h"

#ifndef FLOWHOST_VERSION
#define FLOWHOST_VERSION "dev"
#endif

/* --- histograms ---------------------------------------------------------------- */

/* Latency buckets (seconds), shared by actions, HTTP requests and Lua calls. */
static const double LATENCY_BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,   5,    10};
#define NLAT (sizeof LATENCY_BUCKETS / sizeof LATENCY_BUCKETS[0])
/* Actions per commit: the writer batches at most 64 (store_writer.c). */
static const double BATCH_BUCKETS[] = {1, 2, 4, 8, 16, 32, 64};
#define NBATCH (sizeof BATCH_BUCKETS / sizeof BATCH_BUCKETS[0])
/* A WAL sync takes ~0.1-0.5 ms on an SSD or a virtual disk, tens of ms
 * on a spinning one. */
static const double SYNC_BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define NSYNC (sizeof SYNC_BUCKETS / sizeof SYNC_BUCKETS[0])
/* Actions per sync: a sync covers every commit written before it. */
static const double PER_SYNC_BUCKETS[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
#define NPER_SYNC (sizeof PER_SYNC_BUCKETS / sizeof PER_SYNC_BUCKETS[0])

typedef struct histo {
  atomic_ulong bucket[NLAT + 1];   /* not cumulative; the last is +Inf */
  atomic_ullong sum_micro;         /* of the observed values, times 1e6 */
} histo;

static void histo_observe(histo *h, const double *bounds, size_t n, double v) {
  size_t i = 0;
  while (i < n && v > bounds[i]) i++;
  atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_micro, (unsigned long long)(v > 0 ? v * 1e6 + 0.5 : 0), memory_order_relaxed);
}

/* --- the counters ------------------------------------------------------------------ */

#define NOUTCOME (FH_STALE + 1)

/* Known HTTP statuses get their own series; any other is counted under
 * its class ("2xx" ... "5xx"), so the label set stays fixed. */
static const int HTTP_STATUSES[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503};
#define NKNOWN (sizeof HTTP_STATUSES / sizeof HTTP_STATUSES[0])
#define NSTATUS (NKNOWN + 5)   /* + 1xx..5xx */

typedef struct route_slot {
  const char *method_key, *prefix_key, *pattern_key;   /* the caller's strings, compared by address */
  char method[12];
  char label[112];
} route_slot;

static struct {
  atomic_ulong actions[METRICS_ACTION__COUNT][NOUTCOME];
  histo action_latency[METRICS_ACTION__COUNT];
  atomic_ulong commits, commit_failures;
  atomic_ulong action_restarts;
  histo per_commit;
  histo wal_sync, per_wal_sync;
  atomic_ulong wal_sync_failures;
  atomic_ulong jobs[METRICS_JOB__COUNT];
  atomic_long jobs_running;
  atomic_ulong job_lease_expiries;
  atomic_ulong external[METRICS_EXTERNAL__COUNT];
  atomic_ulong flow_loads[2];
  histo lua;
  atomic_ulong http[METRICS_HTTP_ROUTES + 1][NSTATUS];
  histo http_latency[METRICS_HTTP_ROUTES + 1];
  route_slot routes[METRICS_HTTP_ROUTES + 1];   /* the last: "other" */
  atomic_int nroutes;
  atomic_int http_workers;
  atomic_int http_conns[METRICS_HTTP_WORKERS];
  atomic_int http_writes_queued, http_writes_running;   /* the executors' (http_exec.c) */
  atomic_llong started_at;                       /* unix seconds; 0 unknown */
} M;

static pthread_mutex_t routes_mu = PTHREAD_MUTEX_INITIALIZER;

void metrics_process_started(void) {
  long long zero = 0;
  atomic_compare_exchange_strong(&M.started_at, &zero, (long long)time(NULL));
}

void metrics_action_done(metrics_action kind, int rc, double started) {
  if ((unsigned)kind >= METRICS_ACTION__COUNT) return;
  if (rc == FH_STALE) rc = FH_CONFLICT;   /* the same answer to the client */
  if (rc < 0 || rc >= NOUTCOME) rc = FH_INTERNAL;
  atomic_fetch_add_explicit(&M.actions[kind][rc], 1, memory_order_relaxed);
  histo_observe(&M.action_latency[kind], LATENCY_BUCKETS, NLAT, fhtime_monotonic() - started);
}

void metrics_action_restarted(void) { atomic_fetch_add_explicit(&M.action_restarts, 1, memory_order_relaxed); }

unsigned long metrics_action_restarts(void) { return atomic_load_explicit(&M.action_restarts, memory_order_relaxed); }

void metrics_commit(int actions, int rc) {
  atomic_fetch_add_explicit(rc ? &M.commit_failures : &M.commits, 1, memory_order_relaxed);
  if (!rc && actions > 0) histo_observe(&M.per_commit, BATCH_BUCKETS, NBATCH, actions);
}

void metrics_wal_sync(double seconds, unsigned long actions, int ok) {
  if (!ok) {
    atomic_fetch_add_explicit(&M.wal_sync_failures, 1, memory_order_relaxed);
    return;
  }
  histo_observe(&M.wal_sync, SYNC_BUCKETS, NSYNC, seconds);
  histo_observe(&M.per_wal_sync, PER_SYNC_BUCKETS, NPER_SYNC, (double)actions);
}

void metrics_wal_sync_totals(unsigned long *syncs, unsigned long *actions, unsigned long *failures) {
  unsigned long n = 0;
  for (size_t i = 0; i <= NPER_SYNC; i++) n += atomic_load_explicit(&M.per_wal_sync.bucket[i], memory_order_relaxed);
  *syncs = n;
  *actions = (unsigned long)((atomic_load_explicit(&M.per_wal_sync.sum_micro, memory_order_relaxed) + 500000) / 1000000);
  *failures = atomic_load_explicit(&M.wal_sync_failures, memory_order_relaxed);
}

void metrics_job_outcome(metrics_job what) {
  if ((unsigned)what < METRICS_JOB__COUNT) atomic_fetch_add_explicit(&M.jobs[what], 1, memory_order_relaxed);
}

void metrics_job_running(int delta) { atomic_fetch_add_explicit(&M.jobs_running, delta, memory_order_relaxed); }

void metrics_job_lease_expired(void) { atomic_fetch_add_explicit(&M.job_lease_expiries, 1, memory_order_relaxed); }

void metrics_external(metrics_external_event what) {
  if ((unsigned)what < METRICS_EXTERNAL__COUNT)
    atomic_fetch_add_explicit(&M.external[what], 1, memory_order_relaxed);
}

void metrics_flow_load(int failed) {
  atomic_fetch_add_explicit(&M.flow_loads[failed ? 1 : 0], 1, memory_order_relaxed);
}

void metrics_lua_call(double seconds) { histo_observe(&M.lua, LATENCY_BUCKETS, NLAT, seconds); }

/* --- HTTP routes ------------------------------------------------------------------- */

static int route_find(const char *method, const char *prefix, const char *pattern, int n) {
  for (int i = 0; i < n; i++) {
    const route_slot *s = &M.routes[i];
    if (s->method_key == method && s->prefix_key == prefix && s->pattern_key == pattern) return i;
  }
  return -1;
}

/* The slow path: under the lock, by text; a new slot is published by the
 * release store of nroutes, after it is filled in. */
static int route_register(const char *method, const char *prefix, const char *pattern) {
  char label[sizeof M.routes[0].label];
  snprintf(label, sizeof label, "%s%s", prefix ? prefix : "", pattern ? pattern : "");
  pthread_mutex_lock(&routes_mu);
  int n = atomic_load_explicit(&M.nroutes, memory_order_relaxed);
  int found = METRICS_HTTP_ROUTES;
  for (int i = 0; i < n; i++)
    if (!strcmp(M.routes[i].label, label) && !strcmp(M.routes[i].method, method)) found = i;
  if (found == METRICS_HTTP_ROUTES && n < METRICS_HTTP_ROUTES) {
    route_slot *s = &M.routes[n];
    s->method_key = method;
    s->prefix_key = prefix;
    s->pattern_key = pattern;
    snprintf(s->method, sizeof s->method, "%s", method);
    snprintf(s->label, sizeof s->label, "%s", label);
    found = n;
    atomic_store_explicit(&M.nroutes, n + 1, memory_order_release);
  }
  pthread_mutex_unlock(&routes_mu);
  return found;
}

int metrics_http_route(const char *method, const char *prefix, const char *pattern) {
  if (!method) return METRICS_HTTP_ROUTES;
  int n = atomic_load_explicit(&M.nroutes, memory_order_acquire);
  int i = route_find(method, prefix, pattern, n);
  return i >= 0 ? i : route_register(method, prefix, pattern);
}

static int status_index(int status) {
  for (size_t i = 0; i < NKNOWN; i++)
    if (HTTP_STATUSES[i] == status) return (int)i;
  return status >= 100 && status < 600 ? (int)NKNOWN + status / 100 - 1 : -1;
}

void metrics_http_request(int route, int status, double seconds) {
  int si = status_index(status);
  if (route < 0 || route > METRICS_HTTP_ROUTES || si < 0) return;
  atomic_fetch_add_explicit(&M.http[route][si], 1, memory_order_relaxed);
  histo_observe(&M.http_latency[route], LATENCY_BUCKETS, NLAT, seconds);
}

/* --- the buffer ---------------------------------------------------------------------- */

void metrics_http_workers(int n) {
  atomic_store(&M.http_workers, n < METRICS_HTTP_WORKERS ? n : METRICS_HTTP_WORKERS);
}

void metrics_http_connections(int worker, int delta) {
  if (worker >= 0 && worker < METRICS_HTTP_WORKERS)
    atomic_fetch_add_explicit(&M.http_conns[worker], delta, memory_order_relaxed);
}

void metrics_http_writes(int queued_delta, int running_delta) {
  atomic_fetch_add_explicit(&M.http_writes_queued, queued_delta, memory_order_relaxed);
  atomic_fetch_add_explicit(&M.http_writes_running, running_delta, memory_order_relaxed);
}

void metrics_buf_printf(metrics_buf *b, const char *fmt, ...) {
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->text ? b->text + b->len : NULL, b->text ? room : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if (b->text && (size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap : 16384;
    while (cap - b->len <= (size_t)n) cap *= 2;
    char *grown = realloc(b->text, cap);
    if (!grown) {
      b->failed = 1;
      return;
    }
    b->text = grown;
    b->cap = cap;
  }
}

void metrics_buf_header(metrics_buf *b, const char *name, const char *type, const char *help) {
  metrics_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_buf_label(metrics_buf *b, const char *value) {
  for (const char *p = value ? value : ""; *p; p++) {
    if (*p == '\\') metrics_buf_printf(b, "\\\\");
    else if (*p == '"') metrics_buf_printf(b, "\\\"");
    else if (*p == '\n') metrics_buf_printf(b, "\\n");
    else metrics_buf_printf(b, "%c", *p);
  }
}

void metrics_buf_free(metrics_buf *b) {
  free(b->text);
  memset(b, 0, sizeof *b);
}

/* --- rendering ----------------------------------------------------------------------- */

static unsigned long load(atomic_ulong *v) { return atomic_load_explicit(v, memory_order_relaxed); }

/* The series of one histogram: name_bucket{labels,le=...}, _sum, _count.
 * labels is "" or `key="value",` pairs ending in a comma. */
static void render_histo(metrics_buf *b, const char *name, const char *labels, histo *h, const double *bounds,
                         size_t n) {
  unsigned long cum = 0;
  for (size_t i = 0; i <= n; i++) {
    cum += load(&h->bucket[i]);
    if (i < n) metrics_buf_printf(b, "%s_bucket{%sle=\"%g\"} %lu\n", name, labels, bounds[i], cum);
    else metrics_buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %lu\n", name, labels, cum);
  }
  size_t l = strlen(labels);
  char plain[256];
  snprintf(plain, sizeof plain, "%.*s", l ? (int)l - 1 : 0, labels);   /* without the last comma */
  const char *open = l ? "{" : "", *close = l ? "}" : "";
  metrics_buf_printf(b, "%s_sum%s%s%s %.6f\n", name, open, plain, close,
                     (double)atomic_load_explicit(&h->sum_micro, memory_order_relaxed) / 1e6);
  metrics_buf_printf(b, "%s_count%s%s%s %lu\n", name, open, plain, close, cum);
}

/* "start", "task.assign", ..., "job" */
static const char *action_name(int kind) {
  static const char *const TASK[] = {"task.assign", "task.unassign", "task.reassign", "task.execute",
                                     "task.cancel", "task.undo",     "task.revive"};
  if (kind == METRICS_ACTION_START) return "start";
  if (kind == METRICS_ACTION_PROCESS_CANCEL) return "process.cancel";
  if (kind == METRICS_ACTION_MESSAGE) return "message";
  if (kind == METRICS_ACTION_SIGNAL) return "signal";
  if (kind == METRICS_ACTION_JOB) return "job";
  return TASK[kind - METRICS_ACTION_TASK];
}

static void render_actions(metrics_buf *b) {
  metrics_buf_header(b, "flowhost_actions_total", "counter",
                     "Write actions of the engine by kind and outcome (an fherr code name, ok when written).");
  for (int k = 0; k < METRICS_ACTION__COUNT; k++)
    for (int o = 0; o < NOUTCOME; o++) {
      unsigned long v = load(&M.actions[k][o]);
      if (v || o == FH_OK)
        metrics_buf_printf(b, "flowhost_actions_total{kind=\"%s\",outcome=\"%s\"} %lu\n", action_name(k),
                           fherr_code_name(o), v);
    }
  metrics_buf_header(b, "flowhost_action_duration_seconds", "histogram",
                     "Time of a write action, from the request to its durable commit (retries included).");
  for (int k = 0; k < METRICS_ACTION__COUNT; k++) {
    char labels[64];
    snprintf(labels, sizeof labels, "kind=\"%s\",", action_name(k));
    render_histo(b, "flowhost_action_duration_seconds", labels, &M.action_latency[k], LATENCY_BUCKETS, NLAT);
  }
}

static void render_store(metrics_buf *b) {
  metrics_buf_header(b, "flowhost_commits_total", "counter", "Commits of the group-commit writer.");
  metrics_buf_printf(b, "flowhost_commits_total %lu\n", load(&M.commits));
  metrics_buf_header(b, "flowhost_commit_failures_total", "counter",
                     "Commits that failed (every action in them failed).");
  metrics_buf_printf(b, "flowhost_commit_failures_total %lu\n", load(&M.commit_failures));
  metrics_buf_header(b, "flowhost_action_restarts_total", "counter",
                     "Actions that found their process written meanwhile and started over (contention).");
  metrics_buf_printf(b, "flowhost_action_restarts_total %lu\n", load(&M.action_restarts));
  metrics_buf_header(b, "flowhost_actions_per_commit", "histogram", "Write actions that shared one commit.");
  render_histo(b, "flowhost_actions_per_commit", "", &M.per_commit, BATCH_BUCKETS, NBATCH);
  metrics_buf_header(b, "flowhost_wal_sync_duration_seconds", "histogram",
                     "Syncs of SQLite's write-ahead log by the group commit (synchronous=FULL).");
  render_histo(b, "flowhost_wal_sync_duration_seconds", "", &M.wal_sync, SYNC_BUCKETS, NSYNC);
  metrics_buf_header(b, "flowhost_actions_per_wal_sync", "histogram",
                     "Write actions each WAL sync made durable (its sum over its count: actions per fsync).");
  render_histo(b, "flowhost_actions_per_wal_sync", "", &M.per_wal_sync, PER_SYNC_BUCKETS, NPER_SYNC);
  metrics_buf_header(b, "flowhost_wal_sync_failures_total", "counter",
                     "WAL syncs that failed: nothing written after one is durable; restart flowhost.");
  metrics_buf_printf(b, "flowhost_wal_sync_failures_total %lu\n", load(&M.wal_sync_failures));
}

static void render_jobs(metrics_buf *b) {
  static const char *const OUTCOME[METRICS_JOB__COUNT] = {"done", "retried", "failed", "dropped"};
  metrics_buf_header(b, "flowhost_job_runs_total", "counter",
                     "Jobs and timers a worker ran, by outcome "
                     "(retried: raised, runs again; failed: raised, now ERROR).");
  for (int i = 0; i < METRICS_JOB__COUNT; i++)
    metrics_buf_printf(b, "flowhost_job_runs_total{outcome=\"%s\"} %lu\n", OUTCOME[i], load(&M.jobs[i]));
  metrics_buf_header(b, "flowhost_jobs_running", "gauge", "Jobs and timers being run by this host's workers now.");
  metrics_buf_printf(b, "flowhost_jobs_running %ld\n", atomic_load_explicit(&M.jobs_running, memory_order_relaxed));
  metrics_buf_header(b, "flowhost_job_lease_expiries_total", "counter",
                     "Jobs claimed again after the lease of an earlier worker ran out (a crashed or stuck worker).");
  metrics_buf_printf(b, "flowhost_job_lease_expiries_total %lu\n", load(&M.job_lease_expiries));
}

static void render_external(metrics_buf *b) {
  static const struct {
    const char *name, *help;
  } E[METRICS_EXTERNAL__COUNT] = {
      {"flowhost_external_tasks_fetched_total", "External tasks handed to a worker by fetch-and-lock."},
      {"flowhost_external_tasks_completed_total", "External tasks completed by their worker."},
      {"flowhost_external_tasks_failed_total", "External tasks failed by their worker."},
      {"flowhost_external_task_lease_expiries_total", "External tasks offered again after their lease ran out."},
  };
  for (int i = 0; i < METRICS_EXTERNAL__COUNT; i++) {
    metrics_buf_header(b, E[i].name, "counter", E[i].help);
    metrics_buf_printf(b, "%s %lu\n", E[i].name, load(&M.external[i]));
  }
}

static void status_label(size_t si, char out[16]) {
  if (si < NKNOWN) snprintf(out, 16, "%d", HTTP_STATUSES[si]);
  else snprintf(out, 16, "%cxx", (char)('1' + (si - NKNOWN) % 5));
}

static void render_http(metrics_buf *b) {
  int n = atomic_load_explicit(&M.nroutes, memory_order_acquire);
  metrics_buf_header(b, "flowhost_http_requests_total", "counter",
                     "HTTP requests answered, by method, route pattern and status.");
  for (int r = 0; r <= METRICS_HTTP_ROUTES; r++) {
    if (r >= n && r < METRICS_HTTP_ROUTES) continue;
    const char *method = r < n ? M.routes[r].method : "", *label = r < n ? M.routes[r].label : "other";
    for (size_t si = 0; si < NSTATUS; si++) {
      unsigned long v = load(&M.http[r][si]);
      if (!v) continue;
      char st[16];
      status_label(si, st);
      metrics_buf_printf(b, "flowhost_http_requests_total{method=\"%s\",route=\"", method);
      metrics_buf_label(b, label);
      metrics_buf_printf(b, "\",status=\"%s\"} %lu\n", st, v);
    }
  }
  metrics_buf_header(b, "flowhost_http_request_duration_seconds", "histogram",
                     "Time to answer an HTTP request, by method and route pattern.");
  for (int r = 0; r <= METRICS_HTTP_ROUTES; r++) {
    if (r >= n && r < METRICS_HTTP_ROUTES) continue;
    unsigned long any = 0;
    for (size_t i = 0; i <= NLAT; i++) any += load(&M.http_latency[r].bucket[i]);
    if (!any) continue;
    char labels[200];
    snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\",", r < n ? M.routes[r].method : "",
             r < n ? M.routes[r].label : "other");
    render_histo(b, "flowhost_http_request_duration_seconds", labels, &M.http_latency[r], LATENCY_BUCKETS, NLAT);
  }
  int workers = atomic_load(&M.http_workers);
  if (!workers) return;
  metrics_buf_header(b, "flowhost_http_connections", "gauge",
                     "Open HTTP connections, by the worker thread that answers them (each new one goes to "
                     "the worker with the fewest, a request the worker is answering counting as 8).");
  for (int w = 0; w < workers; w++)
    metrics_buf_printf(b, "flowhost_http_connections{worker=\"%d\"} %d\n", w,
                       atomic_load_explicit(&M.http_conns[w], memory_order_relaxed));
  metrics_buf_header(b, "flowhost_http_executor_writes", "gauge",
                     "Writes handed to the executor threads: waiting for one (queued), or being answered "
                     "(running).");
  metrics_buf_printf(b, "flowhost_http_executor_writes{state=\"queued\"} %d\n",
                     atomic_load_explicit(&M.http_writes_queued, memory_order_relaxed));
  metrics_buf_printf(b, "flowhost_http_executor_writes{state=\"running\"} %d\n",
                     atomic_load_explicit(&M.http_writes_running, memory_order_relaxed));
}

static void render_info(metrics_buf *b) {
  metrics_buf_header(b, "flowhost_build_info", "gauge", "Always 1; the labels say which flowhost this is.");
  metrics_buf_printf(b, "flowhost_build_info{version=\"%s\",lua=\"5.4\"} 1\n", FLOWHOST_VERSION);
  long long started = atomic_load(&M.started_at);
  if (started) {
    metrics_buf_header(b, "flowhost_process_start_time_seconds", "gauge", "When the host started, in unix seconds.");
    metrics_buf_printf(b, "flowhost_process_start_time_seconds %lld\n", started);
  }
  metrics_buf_header(b, "flowhost_flow_loads_total", "counter",
                     "Flow files compiled, at start and on hot reload, by outcome (error: the file has an error).");
  metrics_buf_printf(b, "flowhost_flow_loads_total{outcome=\"ok\"} %lu\n", load(&M.flow_loads[0]));
  metrics_buf_printf(b, "flowhost_flow_loads_total{outcome=\"error\"} %lu\n", load(&M.flow_loads[1]));
  metrics_buf_header(b, "flowhost_lua_callback_duration_seconds", "histogram",
                     "Time of each outermost Lua callback (handlers, conditions, jobs, loading flows).");
  render_histo(b, "flowhost_lua_callback_duration_seconds", "", &M.lua, LATENCY_BUCKETS, NLAT);
}

void metrics_render(metrics_buf *b) {
  render_info(b);
  render_actions(b);
  render_store(b);
  metrics_db_render(b);
  render_jobs(b);
  render_external(b);
  render_http(b);
}
