/* metrics_db — statements and round trips to the database, per backend,
 * for GET /metrics (flowhost_db_statements_total, flowhost_db_round_trips_total)
 * and the benchmarks (bench/pg_hosts.sh divides them by the actions done).
 *
 * The statement shim (store_db.c, store_pg.c) calls metrics_db_count() once
 * per execution it sends; the counters are process-wide relaxed atomics like
 * those of metrics.c.  Each connection keeps its own plain counts too
 * (dbc.statements, dbc.round_trips in store_db.h).  This unit knows no
 * database: the backend is its own small enum.
 */
#ifndef METRICS_DB_H
#define METRICS_DB_H

#include <stdint.h>

#include "metrics.h"

/* The order of db_kind in store_db.h (checked there). */
typedef enum { METRICS_DB_SQLITE, METRICS_DB_POSTGRESQL, METRICS_DB__COUNT } metrics_db_backend;

/* statements: executions (a prepared statement run, an exec of SQL text,
 * BEGIN, COMMIT, ...); round_trips: requests the client waited for the
 * server to answer (PostgreSQL only: SQLite runs in the process). */
void metrics_db_count(metrics_db_backend backend, unsigned statements, unsigned round_trips);
/* The totals so far (tests, benchmarks). */
void metrics_db_read(metrics_db_backend backend, uint64_t *statements, uint64_t *round_trips);
/* Appends both counters, one series per backend. */
void metrics_db_render(metrics_buf *b);

#endif
