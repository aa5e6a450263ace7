/* Engine throughput: N processes of an all-automatic flow run to DONE,
 * beside the commits/second of a trivial one-row SQLite transaction on the
 * same disk in the same run (the machine is shared; only the ratio is
 * comparable between runs).
 *
 *   engine_bench [N] [--sync normal]
 *   engine_bench N --threads K [--sync normal]
 *
 * The second form runs only the K-thread phase (no baseline), for counting
 * the fsyncs of exactly those N processes with `strace -f -c -e
 * trace=fsync,fdatasync` (bench/run.sh does): N / fsyncs is the number of
 * durable actions per fsync the group commit reaches.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "fhtime.h"


static double sqlite_commits_per_second(const char *path, int n, int full) {
  bench_remove_db(path);
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
  char pragmas[128];
  /* the page size flowhost gives a new database (host/store_writer.c): the
   * raw commit then writes frames of the same size */
  snprintf(pragmas, sizeof pragmas, "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
           full ? "FULL" : "NORMAL");
  sqlite3_exec(db, pragmas, NULL, NULL, NULL);
  sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL);
  sqlite3_stmt *ins;
  sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES('x')", -1, &ins, NULL);
  double t0 = fhtime_monotonic();
  for (int i = 0; i < n; i++) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  }
  double dt = fhtime_monotonic() - t0;
  sqlite3_finalize(ins);
  sqlite3_close(db);
  bench_remove_db(path);
  return n / dt;
}

/* Processes of the database that ran to DONE: the answer is checked in the
 * database itself, since the starts below ask for no view (out = NULL). */
static int count_done(const char *path) {
  sqlite3 *db;
  sqlite3_stmt *q;
  int n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM process WHERE status = 'DONE'", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    n = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

typedef struct worker_arg {
  flowreg *reg;
  const char *db;
  int full, n, done;
} worker_arg;

/* One thread = one engine (its own Lua state and connection), as in serve. */
static void *start_processes(void *p) {
  worker_arg *w = p;
  engine *e;
  fherr err = {0};
  engine_options eo = {.flows = w->reg, .db_path = w->db, .synchronous_full = w->full};
  if (engine_open(&eo, &e, &err)) return NULL;
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *data = json_pack("{s:i}", "n", 3);
  for (int i = 0; i < w->n; i++) {
    if (engine_start(e, &sys, "auto", "start", data, NULL, &err)) {
      fherr_clear(&err);
      continue;
    }
    w->done++;
  }
  json_decref(data);
  engine_close(e);
  return NULL;
}

/* processes/second with `threads` engines starting processes at once */
static double concurrent_rate(flowreg *reg, const char *db, int full, int n, int threads, int *done) {
  bench_remove_db(db);
  pthread_t t[16];
  worker_arg args[16];
  double t0 = fhtime_monotonic();
  for (int i = 0; i < threads; i++) {
    args[i] = (worker_arg){.reg = reg, .db = db, .full = full, .n = n / threads};
    pthread_create(&t[i], NULL, start_processes, &args[i]);
  }
  int started = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    started += args[i].done;
  }
  double dt = fhtime_monotonic() - t0;
  *done = count_done(db);
  if (*done != started) *done = -1;   /* an answer that does not match the database fails the run */
  bench_remove_db(db);
  return *done / dt;
}

/* Only the K-thread phase: prints processes done and per second. */
static int threads_only(int n, int threads, int full, const char *db) {
  flowreg *reg;
  engine *e;
  if (bench_open(db, full, &reg, &e)) return 1;
  engine_close(e);
  int done = 0;
  double pps = concurrent_rate(reg, db, full, n, threads, &done);
  printf("engine_bench: %d threads, %d of %d processes done, %.0f processes/s, synchronous=%s\n", threads, done, n,
         pps, full ? "FULL" : "NORMAL");
  flowreg_free(reg);
  return done == n / threads * threads ? 0 : 1;
}

int main(int argc, char **argv) {
  engine_library_init();   /* before the baseline's SQLite: both run with the same settings */
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int full = 1, threads = 0;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--sync") && i + 1 < argc) full = strcmp(argv[++i], "normal") != 0;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
  }
  /* per run: two runs at once on this machine must not share a file */
  char db[64], base[64];
  snprintf(db, sizeof db, "/tmp/flowhost-bench-%d.db", (int)getpid());
  snprintf(base, sizeof base, "/tmp/flowhost-bench-base-%d.db", (int)getpid());
  if (threads > 0 && threads <= 16) return threads_only(n, threads, full, db);

  double baseline = sqlite_commits_per_second(base, n, full);

  flowreg *reg;
  engine *e;
  if (bench_open(db, full, &reg, &e)) return 1;
  fherr err = {0};
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *data = json_pack("{s:i}", "n", 3);
  double t0 = fhtime_monotonic();
  for (int i = 0; i < n; i++) {
    if (engine_start(e, &sys, "auto", "start", data, NULL, &err)) {
      fprintf(stderr, "start failed: %s\n", err.message);
      fherr_clear(&err);
    }
  }
  double dt = fhtime_monotonic() - t0;
  json_decref(data);
  engine_close(e);
  int done = count_done(db);
  bench_remove_db(db);

  double pps = n / dt;
  int done4 = 0, done8 = 0;
  double pps4 = concurrent_rate(reg, db, full, n, 4, &done4);
  double pps8 = concurrent_rate(reg, db, full, n, 8, &done8);
  printf("engine_bench: %d processes (StartFunction -> Handler -> If -> Handler -> End), synchronous=%s\n", n,
         full ? "FULL" : "NORMAL");
  printf("  processes completed     %d of %d\n", done, n);
  printf("  processes/second        %.0f\n", pps);
  printf("  sqlite commits/second   %.0f   (one-row BEGIN IMMEDIATE ... COMMIT, same disk, same run)\n", baseline);
  printf("  ratio                   %.2f processes per raw commit\n", pps / baseline);
  printf("  4 threads at once       %.0f processes/s (%.2f per raw commit; %d done)\n", pps4, pps4 / baseline, done4);
  printf("  8 threads at once       %.0f processes/s (%.2f per raw commit; %d done)\n", pps8, pps8 / baseline, done8);
  flowreg_free(reg);
  return done == n && done4 == n / 4 * 4 && done8 == n / 8 * 8 ? 0 : 1;
}
