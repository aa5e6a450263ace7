/* engine_metrics — the part of GET /metrics read from the database at
 * scrape time (tasks by flow, node and status; jobs due), appended to the
 * counters of metrics.c.  The http layer asks the engine, the engine asks
 * the store (store_metrics.h): the layers stay as they are. */
#ifndef ENGINE_METRICS_H
#define ENGINE_METRICS_H

#include "engine.h"
#include "metrics.h"

/* Appends flowhost_tasks and flowhost_jobs_due (and flowhost_flows with
 * their load status) to b.  The two gauges read from the database are kept
 * for max-age seconds per database, and while one scrape reads them the
 * others wait for its answer: at a million active tasks a read takes
 * ~0.4 s, and several Prometheus servers (or a dashboard) scraping at once
 * should not each pay it. */
int engine_metrics_render(engine *e, metrics_buf *b, fherr *err);

/* Seconds the database gauges are kept (default ENGINE_METRICS_MAX_AGE; 0:
 * read at every scrape).  serve --metrics-max-age. */
#define ENGINE_METRICS_MAX_AGE 5.0
void engine_metrics_set_max_age(double seconds);

#endif
