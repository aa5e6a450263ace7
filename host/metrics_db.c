/* metrics_db — process-wide counts of statements and round trips to the
 * database (metrics_db.h).  A relaxed atomic add per execution: statistics,
 * not synchronization, and far cheaper than the execution it counts. */
#include <stdatomic.h>

#include "metrics_db.h"

static struct {
  atomic_ullong statements, round_trips;
} DB[METRICS_DB__COUNT];

static const char *const BACKEND[METRICS_DB__COUNT] = {"sqlite", "postgresql"};

void metrics_db_count(metrics_db_backend backend, unsigned statements, unsigned round_trips) {
  if ((unsigned)backend >= METRICS_DB__COUNT) return;
  if (statements) atomic_fetch_add_explicit(&DB[backend].statements, statements, memory_order_relaxed);
  if (round_trips) atomic_fetch_add_explicit(&DB[backend].round_trips, round_trips, memory_order_relaxed);
}

void metrics_db_read(metrics_db_backend backend, uint64_t *statements, uint64_t *round_trips) {
  int ok = (unsigned)backend < METRICS_DB__COUNT;
  if (statements) *statements = ok ? atomic_load_explicit(&DB[backend].statements, memory_order_relaxed) : 0;
  if (round_trips) *round_trips = ok ? atomic_load_explicit(&DB[backend].round_trips, memory_order_relaxed) : 0;
}

void metrics_db_render(metrics_buf *b) {
  uint64_t st[METRICS_DB__COUNT], rt[METRICS_DB__COUNT];
  for (int i = 0; i < METRICS_DB__COUNT; i++) metrics_db_read((metrics_db_backend)i, &st[i], &rt[i]);
  metrics_buf_header(b, "flowhost_db_statements_total", "counter",
                     "SQL statements this host executed, by backend (BEGIN and COMMIT included).");
  for (int i = 0; i < METRICS_DB__COUNT; i++)
    metrics_buf_printf(b, "flowhost_db_statements_total{backend=\"%s\"} %llu\n", BACKEND[i],
                       (unsigned long long)st[i]);
  metrics_buf_header(b, "flowhost_db_round_trips_total", "counter",
                     "Requests this host waited on the database server for, by backend "
                     "(executions, prepares, describes; always 0 for SQLite, which runs in the process).");
  for (int i = 0; i < METRICS_DB__COUNT; i++)
    metrics_buf_printf(b, "flowhost_db_round_trips_total{backend=\"%s\"} %llu\n", BACKEND[i],
                       (unsigned long long)rt[i]);
}
