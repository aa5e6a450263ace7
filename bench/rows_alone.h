/* rows_alone — engine_bench's floor for an automatic process: the rows one
 * process of the engine left in its database (its process row, its task
 * rows, its data audit entries), copied and written again under new ids by
 * plain prepared SQLite statements, one transaction per process, into a
 * database of flowhost's own schema (the same indexes, foreign keys, page
 * size and WAL writer).  No engine, no Lua, no group commit, no checkpoint
 * inside the timed part: no engine that writes these rows can be faster on
 * this machine, so the engine's figure next to it is the share of its time
 * that is SQLite's own, and the rest is what the engine can still win.
 */
#ifndef BENCH_ROWS_ALONE_H
#define BENCH_ROWS_ALONE_H

#include <stddef.h>

typedef struct rows_alone rows_alone;

/* Copies the rows of the first process (the lowest id) of the database
 * `sample` and prepares
 * their inserts into `db` (a new file: removed first, then given the schema
 * by a store of flowhost), synchronous FULL or NORMAL.  NULL and msg says
 * why on failure. */
rows_alone *rows_alone_open(const char *sample, const char *db, int full, char *msg, size_t cap);

/* Writes n more processes' rows, timed, then checkpoints the WAL (not
 * timed); 0, or -1 when a statement failed (msg says which). */
int rows_alone_run(rows_alone *r, int n, char *msg, size_t cap);

/* Processes written per second over every run so far. */
double rows_alone_rate(const rows_alone *r);

/* The rows each process writes (for the report): process rows, task rows,
 * audit rows. */
void rows_alone_shape(const rows_alone *r, int *processes, int *tasks, int *audits);

/* Checks the database: 0 when it holds exactly the rows written (per
 * table), else -1.  Then closes it and removes its files. */
int rows_alone_close(rows_alone *r);

/* How a column of one of those tables is written for the copy of a
 * process (both backends' floors): copied as it is, or one of the ids and
 * links that the copy gets anew. */
typedef enum { ROWS_COPY, ROWS_PROCESS_ID, ROWS_TASK_ID, ROWS_TASK_LINK, ROWS_AUDIT_ID } rows_col_kind;

/* The tables an automatic process writes to, in the order they are written. */
enum { ROWS_PROCESS, ROWS_TASK, ROWS_AUDIT, ROWS__TABLES };
extern const char *const rows_table_name[ROWS__TABLES];

rows_col_kind rows_column_kind(int table, const char *column);

#endif
