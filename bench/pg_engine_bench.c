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
 * moments of a noisy machine; each rate is the sum of its slices.  Every
 * start must succeed and every process must be DONE in the database (read
 * back with count(*)), else the run fails (exit 1).
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

/* count(*) of the processes that ran to DONE; -1 when it cannot be read. */
static long count_done(PGconn *conn) {
  PGresult *res = PQexec(conn, "SELECT count(*) FROM process WHERE status = 'DONE'");
  long n = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
  PQclear(res);
  return n;
}

/* One start of the flow on an engine; 0 when it worked. */
static int start_one(void *e, json_t *data) {
  fherr err = {0};
  int rc = engine_start(e, &bench_sys, "auto", "start", data, NULL, &err);
  if (rc) fprintf(stderr, "start: %s\n", err.message);
  fherr_clear(&err);
  return rc;
}

static int run_slice(engine **engines, int threads, int n, double *seconds) {
  return bench_run_slice(start_one, (void *const *)engines, n, threads, seconds);
}

typedef struct phase {
  int threads;
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
  phase ph[3] = {{.threads = 1}, {.threads = 4}, {.threads = 8}};
  for (int p = 0; p < 3; p++)
    for (int i = 0; i < ph[p].threads; i++) {
      fherr err = {0};
      engine_options eo = {.flows = reg, .db_path = url, .synchronous_full = 1};
      if (engine_open(&eo, &ph[p].engines[i], &err)) return fprintf(stderr, "engine_open: %s\n", err.message), 1;
    }
  /* one start each first: the statements' preparing is not a process's */
  for (int p = 0; p < 3; p++) {
    double ignored = 0;
    run_slice(ph[p].engines, ph[p].threads, ph[p].threads, &ignored);
  }
  long done0 = count_done(conn);
  double raw_seconds = 0;
  int raw_failed = 0, slice = n / ROUNDS;
  for (int r = 0; r < ROUNDS; r++) {
    raw_failed |= raw_commits(conn, slice, &raw_seconds) != 0;
    for (int p = 0; p < 3; p++) ph[p].started += run_slice(ph[p].engines, ph[p].threads, slice, &ph[p].seconds);
  }
  long done = count_done(conn) - done0;
  long want = 0;
  for (int p = 0; p < 3; p++) want += (long)(slice / ph[p].threads * ph[p].threads) * ROUNDS;
  int started = ph[0].started + ph[1].started + ph[2].started;
  int ok = !raw_failed && done == started && done == want;
  double raw = raw_seconds > 0 ? slice * ROUNDS / raw_seconds : 0;
  printf("pg_engine_bench: %d processes a phase (StartFunction -> Handler -> If -> Handler -> End), PostgreSQL%s,\n"
         "  the raw commits and each phase alternating in %d rounds\n",
         slice * ROUNDS, durable ? " (fsync and synchronous_commit on)" : " (NOT durable: fsync or synchronous_commit off)",
         ROUNDS);
  printf("  raw commits/second      %.0f   (one-row INSERT, autocommit, one connection)%s\n", raw,
         raw_failed ? "  FAILED" : "");
  for (int p = 0; p < 3; p++) {
    double pps = ph[p].seconds > 0 ? ph[p].started / ph[p].seconds : 0;
    printf("  %d engine%s at once       %.0f processes/s (%.2f per raw commit; %d started)\n", ph[p].threads,
           ph[p].threads == 1 ? " " : "s", pps, raw > 0 ? pps / raw : 0, ph[p].started);
  }
  printf("  processes DONE in the database: %ld of %ld%s\n", done, want, ok ? "" : "  FAILED");
  for (int p = 0; p < 3; p++)
    for (int i = 0; i < ph[p].threads; i++) engine_close(ph[p].engines[i]);
  engine_close(first);
  flowreg_free(reg);
  PQfinish(conn);
  return ok && durable ? 0 : 1;
}
