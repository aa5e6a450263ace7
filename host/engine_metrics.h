/* engine_metrics — the part of GET /metrics read from the database at
 * scrape time (tasks by flow, node and status; jobs due), appended to the
 * counters of metrics.c.  The http layer asks the engine, the engine asks
 * the store (store_metrics.h): the layers stay as they are. */
#ifndef ENGINE_METRICS_H
#define ENGINE_METRICS_H

#include "engine.h"
#include "metrics.h"

/* Appends flowhost_tasks and flowhost_jobs_due (and flowhost_flows with
 * their load status) to b. */
int engine_metrics_render(engine *e, metrics_buf *b, fherr *err);

#endif
