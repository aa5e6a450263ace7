/* engine_metrics — gauges of GET /metrics that come from the database and
 * the flow registry, the database's kept for a few seconds (engine_metrics.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "engine_metrics.h"
#include "fhtime.h"
#include "store_metrics.h"

/* One series of flowhost_tasks: "flow.node" split into its two labels. */
static void task_series(void *arg, const char *flow_task, const char *status, int64_t n) {
  metrics_buf *b = arg;
  const char *dot = strchr(flow_task, '.');
  char flow[128];
  snprintf(flow, sizeof flow, "%.*s", dot ? (int)(dot - flow_task) : (int)strlen(flow_task), flow_task);
  metrics_buf_printf(b, "flowhost_tasks{flow=\"");
  metrics_buf_label(b, flow);
  metrics_buf_printf(b, "\",node=\"");
  metrics_buf_label(b, dot ? dot + 1 : "");
  metrics_buf_printf(b, "\",status=\"");
  metrics_buf_label(b, status);
  metrics_buf_printf(b, "\"} %lld\n", (long long)n);
}

static void render_flows(engine *e, metrics_buf *b) {
  flowgen *gen = flowreg_acquire(e->reg);
  metrics_buf_header(b, "flowhost_flows", "gauge", "Flows known to the host, by the status of their latest load.");
  metrics_buf_printf(b, "flowhost_flows{status=\"ok\"} %d\n", gen ? gen->n - flowgen_count_errors(gen) : 0);
  metrics_buf_printf(b, "flowhost_flows{status=\"error\"} %d\n", gen ? flowgen_count_errors(gen) : 0);
  if (gen) flowgen_release(e->reg, gen);
}

/* The gauges read from the database, for one database at a time (a host
 * serves one).  Their age is on the wall clock (fhtime_epoch), which the
 * tests' manual clock moves; a clock set back makes them stale. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t read;      /* a reader finished */
  int reading;
  char *key;                /* the database of text */
  char *text;
  size_t len;
  double at;
} gauges = {.mu = PTHREAD_MUTEX_INITIALIZER, .read = PTHREAD_COND_INITIALIZER};
static _Atomic long max_age_ms = (long)(ENGINE_METRICS_MAX_AGE * 1000);

void engine_metrics_set_max_age(double seconds) {
  atomic_store(&max_age_ms, seconds > 0 ? (long)(seconds * 1000 + 0.5) : 0);
}

/* The gauges kept for key, appended to b; 0 when there are none fresh
 * enough.  gauges.mu held. */
static int append_kept(const char *key, metrics_buf *b) {
  double now = fhtime_epoch(), age = atomic_load(&max_age_ms) / 1000.0;
  if (!gauges.text || strcmp(gauges.key, key) != 0 || now < gauges.at || now - gauges.at >= age) return 0;
  metrics_buf_printf(b, "%.*s", (int)gauges.len, gauges.text);
  return 1;
}

static int read_gauges(engine *e, metrics_buf *b, fherr *err);

int engine_metrics_render(engine *e, metrics_buf *b, fherr *err) {
  render_flows(e, b);
  if (!e->db_key || atomic_load(&max_age_ms) == 0) return read_gauges(e, b, err);
  pthread_mutex_lock(&gauges.mu);
  for (;;) {
    if (append_kept(e->db_key, b)) {
      pthread_mutex_unlock(&gauges.mu);
      return FH_OK;
    }
    if (!gauges.reading) break;
    pthread_cond_wait(&gauges.read, &gauges.mu);
  }
  gauges.reading = 1;
  pthread_mutex_unlock(&gauges.mu);
  double at = fhtime_epoch();
  metrics_buf part = {0};
  int rc = read_gauges(e, &part, err);
  if (!rc && part.failed) rc = fherr_set(err, FH_INTERNAL, "out of memory while writing the metrics");
  if (!rc && part.text) metrics_buf_printf(b, "%.*s", (int)part.len, part.text);
  char *key = rc || !part.text ? NULL : strdup(e->db_key);
  pthread_mutex_lock(&gauges.mu);
  gauges.reading = 0;
  if (key) {   /* kept (without a copy of the key, the next scrape reads again) */
    free(gauges.key);
    free(gauges.text);
    gauges.key = key;
    gauges.text = part.text;
    gauges.len = part.len;
    gauges.at = at;
    part.text = NULL;
  }
  pthread_cond_broadcast(&gauges.read);
  pthread_mutex_unlock(&gauges.mu);
  metrics_buf_free(&part);
  return rc;
}

/* flowhost_tasks and flowhost_jobs_due from the database, appended to b. */
static int read_gauges(engine *e, metrics_buf *b, fherr *err) {
  int began = 0;
  int rc = store_read_begin(e->st, &began, err);   /* both numbers from one snapshot */
  if (rc) return rc;
  metrics_buf_header(b, "flowhost_tasks", "gauge",
                     "Tasks in an active status (NEW, ASSIGNED, STARTED, SCHEDULED, ERROR) by flow, node and status.");
  rc = store_active_task_counts(e->st, task_series, b, err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  int64_t due = 0;
  if (!rc) rc = store_due_job_count(e->st, now, &due, err);
  store_read_end(e->st, began);
  if (rc) return rc;
  metrics_buf_header(b, "flowhost_jobs_due", "gauge",
                     "Jobs and timers whose time has come (SCHEDULED, due now or earlier; running ones included).");
  metrics_buf_printf(b, "flowhost_jobs_due %lld\n", (long long)due);
  return FH_OK;
}
