/* pg_rows_alone — pg_engine_bench's floor on PostgreSQL: the rows the
 * engine wrote for one automatic process (its process row, its task rows,
 * its data audit entries), copied and written again under new ids by one
 * prepared statement per process (the three inserts as data-modifying
 * parts of one statement: one round trip, one commit, no sequence), over
 * 1 to 8 connections at once, into the engine's own tables (their indexes,
 * foreign keys and the server's durable commit).  No engine that keeps
 * these rows can write processes faster on this server; what separates the
 * engine from it is the engine's own work and its round trips.
 */
#ifndef BENCH_PG_ROWS_ALONE_H
#define BENCH_PG_ROWS_ALONE_H

#include <stddef.h>

typedef struct pg_rows_alone pg_rows_alone;

/* The copies' ids start here, far above what the engine's sequences hand
 * out in a run: the engine's processes and the copies share the tables and
 * never meet, and the copies are told apart by their ids. */
#define PG_ROWS_COPY_IDS (1LL << 40)

/* Copies the rows of the first process of the database at url (its lowest
 * id) and opens `conns` connections (at most 8) with that copy's insert
 * prepared.  NULL and msg says why on failure. */
pg_rows_alone *pg_rows_alone_open(const char *url, int conns, char *msg, size_t cap);

/* n more processes over the connections at once, timed; 0, or -1 when a
 * statement failed (msg says which). */
int pg_rows_alone_run(pg_rows_alone *r, int n, char *msg, size_t cap);

/* Processes written per second over every run so far. */
double pg_rows_alone_rate(const pg_rows_alone *r);

/* Processes written so far. */
long pg_rows_alone_count(const pg_rows_alone *r);

/* Task rows each copy writes (for the report). */
int pg_rows_alone_tasks(const pg_rows_alone *r);

void pg_rows_alone_close(pg_rows_alone *r);

#endif
