/* engine_metrics — gauges of GET /metrics that come from the database and
 * the flow registry (engine_metrics.h). */
#include <stdio.h>
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

int engine_metrics_render(engine *e, metrics_buf *b, fherr *err) {
  render_flows(e, b);
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
