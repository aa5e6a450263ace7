/* Engine throughput on PostgreSQL: engine_bench's all-automatic flow (one
 * start runs a process to DONE: one durable action) with 1, 4 and 8
 * engines at once, each with its own connection as the threads of `serve`
 * have, beside the raw single-writer commit rate of the same server in the
 * same run: one connection inserting one row per transaction
 * (`INSERT INTO raw_commit(v) VALUES('x')`, autocommit: one round trip,
 * one WAL flush).  Issue 13's targets, measured on the other backend: one
 * engine against 0.25 of the raw rate, 8 at once against 2x (PostgreSQL
 * groups the WAL flushes of concurrent commits itself).  The raw commits
 * and each phase alternate in ROUNDS rounds, so that all see the same
 * moments of a noisy machine; each rate is the sum of its slices.  Beside
 * them, the floor (pg_rows_alone.c): the rows of the engine's first process
 * written again by one statement per process, over 1 and over 8
 * connections, the fastest any engine keeping these rows could go.  Every
 * start must succeed and every process must be DONE in the database (read
 * back with count(*)), else the run fails (exit 1).  The last two phases
 * run the same flow with history = "lean" (bench/flows/auto_lean.lua: its
 * steps leave no task row) on 1 and 8 engines; a task row of theirs fails
 * the run.
 *
 *   pg_engine_bench URL [N]   (URL: an empty database of a durable server;
 *                              bench/pg_engine.sh makes one)
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "engine.h"
#include "fhtime.h"
#include "pg_rows_alone.h"

#define ROUNDS 10
#define MAX_THREADS 8

static fh_actor bench_sys;

/* One-row commits on conn, timed into *seconds; -1 when one failed. */
static int raw_commits(PGconn *conn, int n, double *seconds) {
  double t0 = fhtime_monotonic();
  for (int i = 0; i < n; i++) {
    PGresult *res = PQexecPrepared(conn, "raw", 0, NULL, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) return fprintf(stderr, "raw commit: %s", PQerrorMessage(conn)), -1;
  }
  *seconds += fhtime_monotonic() - t0;
  return 0;
}

/* count(*) of a table's rows where the condition holds; -1 when it cannot
 * be read. */
static long count_in(PGconn *conn, const char *table, const char *where) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s", table, where);
  PGresult *res = PQexec(conn, sql);
  long n = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
  PQclear(res);
  return n;
}

static long count_where(PGconn *conn, const char *where) { return count_in(conn, "process", where); }

/* The processes that ran to DONE (the engine's: the floor's copies have ids
 * of their own). */
static long count_done(PGconn *conn) {
  char where[96];
  snprintf(where, sizeof where, "status = 'DONE' AND id < %lld", PG_ROWS_COPY_IDS);
  return count_where(conn, where);
}

/* Rows written by the floor: its copies of a process. */
static long count_copies(PGconn *conn) {
  char where[64];
  snprintf(where, sizeof where, "id >= %lld", PG_ROWS_COPY_IDS);
  return count_where(conn, where);
}

/* One start of the flow on an engine; 0 when it worked. */
static int start_flow(void *e, json_t *data, const char *flow) {
  fherr err = {0};
  int rc = engine_start(e, &bench_sys, flow, "start", data, NULL, &err);
  if (rc) fprintf(stderr, "start: %s\n", err.message);
  fherr_clear(&err);
  return rc;
}

static int start_one(void *e, json_t *data) { return start_flow(e, data, "auto"); }
static int start_one_lean(void *e, json_t *data) { return start_flow(e, data, "auto_lean"); }

static int run_slice(engine **engines, int threads, int lean, int n, double *seconds) {
  return bench_run_slice(lean ? start_one_lean : start_one, (void *const *)engines, n, threads, seconds);
}

typedef struct phase {
  int threads;
  int lean;   /* the flow of history = "lean" */
  engine *engines[MAX_THREADS];
  double seconds;
  int started;
} phase;

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: pg_engine_bench URL [N]\n"), 2;
  const char *url = argv[1];
  int n = argc > 2 ? atoi(argv[2]) : 4000;
  engine_library_init();
  fh_actor_system(&bench_sys);
  PGconn *conn = PQconnectdb(url);
  if (PQstatus(conn) != CONNECTION_OK) return fprintf(stderr, "%s", PQerrorMessage(conn)), 1;
  PGresult *res = PQexec(conn, "CREATE TABLE raw_commit(id bigserial PRIMARY KEY, v text)");
  PQclear(res);
  res = PQprepare(conn, "raw", "INSERT INTO raw_commit(v) VALUES('x')", 0, NULL);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) return fprintf(stderr, "%s", PQerrorMessage(conn)), 1;
  PQclear(res);
  res = PQexec(conn, "SHOW synchronous_commit");
  int durable = PQresultStatus(res) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(res, 0, 0), "on");
  PQclear(res);
  res = PQexec(conn, "SHOW fsync");
  durable &= PQresultStatus(res) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(res, 0, 0), "on");
  PQclear(res);

  flowreg *reg;
  engine *first;
  if (bench_open(url, 1, &reg, &first)) return 1;
  enum { NPHASES = 5 };
  phase ph[NPHASES] = {{.threads = 1}, {.threads = 4}, {.threads = 8}, {.threads = 1, .lean = 1}, {.threads = 8, .lean = 1}};
  for (int p = 0; p < NPHASES; p++)
    for (int i = 0; i < ph[p].threads; i++) {
      fherr err = {0};
      engine_options eo = {.flows = reg, .db_path = url, .synchronous_full = 1};
      if (engine_open(&eo, &ph[p].engines[i], &err)) return fprintf(stderr, "engine_open: %s\n", err.message), 1;
    }
  /* one start each first: the statements' preparing is not a process's */
  for (int p = 0; p < NPHASES; p++) {
    double ignored = 0;
    run_slice(ph[p].engines, ph[p].threads, ph[p].lean, ph[p].threads, &ignored);
  }
  long done0 = count_done(conn);
  /* the floor: the rows of the first process, written again by one
   * statement per process over 1 and over 8 connections */
  char rows_msg[256] = "";
  pg_rows_alone *rows[2] = {pg_rows_alone_open(url, 1, rows_msg, sizeof rows_msg), NULL};
  if (rows[0]) rows[1] = pg_rows_alone_open(url, MAX_THREADS, rows_msg, sizeof rows_msg);
  double raw_seconds = 0;
  int raw_failed = 0, rows_failed = !rows[0] || !rows[1], slice = n / ROUNDS;
  for (int r = 0; r < ROUNDS; r++) {
    raw_failed |= raw_commits(conn, slice, &raw_seconds) != 0;
    for (int p = 0; p < NPHASES; p++)
      ph[p].started += run_slice(ph[p].engines, ph[p].threads, ph[p].lean, slice, &ph[p].seconds);
    for (int k = 0; k < 2 && !rows_failed; k++) rows_failed = pg_rows_alone_run(rows[k], slice, rows_msg, sizeof rows_msg);
  }
  long done = count_done(conn) - done0;
  long copies = rows_failed ? 0 : pg_rows_alone_count(rows[0]) + pg_rows_alone_count(rows[1]);
  rows_failed |= count_copies(conn) != copies;
  long want = 0;
  int started = 0;
  for (int p = 0; p < NPHASES; p++) {
    want += (long)(slice / ph[p].threads * ph[p].threads) * ROUNDS;
    started += ph[p].started;
  }
  /* the lean flow's processes wrote no task: else it measured the full one */
  long lean_tasks = count_in(conn, "task", "process_id IN (SELECT id FROM process WHERE flow = 'auto_lean')");
  int ok = !raw_failed && !rows_failed && done == started && done == want && lean_tasks == 0;
  double raw = raw_seconds > 0 ? slice * ROUNDS / raw_seconds : 0;
  printf("pg_engine_bench: %d processes a phase (StartFunction -> Handler -> If -> Handler -> End), PostgreSQL%s,\n"
         "  the raw commits and each phase alternating in %d rounds\n",
         slice * ROUNDS, durable ? " (fsync and synchronous_commit on)" : " (NOT durable: fsync or synchronous_commit off)",
         ROUNDS);
  printf("  raw commits/second      %.0f   (one-row INSERT, autocommit, one connection)%s\n", raw,
         raw_failed ? "  FAILED" : "");
  for (int p = 0; p < NPHASES; p++) {
    double pps = ph[p].seconds > 0 ? ph[p].started / ph[p].seconds : 0;
    if (p == 3)
      printf("  history = \"lean\"        the same flow, its steps leaving no task row (%ld task rows written%s):\n",
             lean_tasks, lean_tasks ? "  FAILED" : "");
    printf("  %s%d engine%s at once     %s%.0f processes/s (%.2f per raw commit; %d started)\n", ph[p].lean ? "  " : "",
           ph[p].threads, ph[p].threads == 1 ? " " : "s", ph[p].lean ? "" : "  ", pps, raw > 0 ? pps / raw : 0,
           ph[p].started);
  }
  for (int k = 0; k < 2; k++) {
    double pps = rows[k] ? pg_rows_alone_rate(rows[k]) : 0;
    printf("  the same rows alone, %d  %.0f processes/s (%.2f per raw commit)%s\n", k ? MAX_THREADS : 1, pps,
           raw > 0 ? pps / raw : 0, k ? "" : ":");
    if (!k)
      printf("                          the rows of the first process (%d tasks) again, one statement and one\n"
             "                          commit each; the engine at %.0f%% of it with 1, %.0f%% with 8 connections\n",
             rows[0] ? pg_rows_alone_tasks(rows[0]) : 0,
             pps > 0 && ph[0].seconds > 0 ? 100 * ph[0].started / ph[0].seconds / pps : 0,
             rows[1] && pg_rows_alone_rate(rows[1]) > 0 && ph[2].seconds > 0
                 ? 100 * ph[2].started / ph[2].seconds / pg_rows_alone_rate(rows[1])
                 : 0);
  }
  if (rows_failed) printf("  the floor FAILED: %s\n", rows_msg[0] ? rows_msg : "its copies are not all in the database");
  printf("  processes DONE in the database: %ld of %ld%s\n", done, want, ok ? "" : "  FAILED");
  for (int k = 0; k < 2; k++) pg_rows_alone_close(rows[k]);
  for (int p = 0; p < NPHASES; p++)
    for (int i = 0; i < ph[p].threads; i++) engine_close(ph[p].engines[i]);
  engine_close(first);
  flowreg_free(reg);
  PQfinish(conn);
  return ok && durable ? 0 : 1;
}
