/* Engine throughput: N processes of an all-automatic flow run to DONE,
 * beside the commits/second of a trivial one-row SQLite transaction on the
 * same disk in the same run (the machine is shared; only the ratio is
 * comparable between runs).  The baseline and each engine phase alternate
 * in ROUNDS rounds (a slice of raw commits, a slice of processes, ...), so
 * that both see the same moments of a noisy machine; each rate is the sum
 * of its slices.
 *
 *   engine_bench [N] [--sync normal]
 *   engine_bench N --threads K [--sync normal] [--history lean] [--flow NAME]
 *
 * A fourth phase, beside the three of the engine, is the ceiling of the
 * group commit itself on this disk: 8 threads whose actions each insert one
 * row through the store's group commit (store_write_fn, as the engine's
 * writes go), with no flow work at all.  What separates the engine's 8
 * threads from it is the work of a process, on this machine's CPUs.
 *
 * A fifth is the floor of one engine: the rows the engine wrote for its
 * first process (process, tasks, data audit), written again under new ids
 * by plain prepared statements, one transaction per process, into a
 * database of flowhost's schema (bench/rows_alone.c).  No engine that keeps
 * these rows can write a process faster on this machine; the engine's
 * share of that rate is what its own work (Lua, the flow, the group
 * commit) costs.
 *
 * The last two phases run the same flow with history = "lean"
 * (bench/flows/auto_lean.lua: its steps leave no task row, docs/flow-dsl.md)
 * on one engine and on 8 at once; the run fails if they wrote a task row.
 *
 * The second form runs only the K-thread phase (no baseline; with
 * --history lean, on the lean flow; with --flow, on that flow of
 * bench/flows, e.g. parallel or parallel_lean), for counting
 * the fsyncs of exactly those N processes with `strace -f -c -e
 * trace=fsync,fdatasync` (bench/run.sh does): N / fsyncs is the number of
 * durable actions per fsync the group commit reaches.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "fhtime.h"
#include "metrics.h"
#include "rows_alone.h"
#include "store.h"

#define ROUNDS 10

/* The baseline: one-row BEGIN IMMEDIATE ... COMMIT transactions. */
typedef struct raw_db {
  sqlite3 *db;
  sqlite3_stmt *ins;
  double seconds;
  int commits;
} raw_db;

static int raw_open(raw_db *r, const char *path, int full) {
  memset(r, 0, sizeof *r);
  bench_remove_db(path);
  if (sqlite3_open(path, &r->db) != SQLITE_OK) return -1;
  char pragmas[128];
  /* the page size flowhost gives a new database (host/store_writer.c): the
   * raw commit then writes frames of the same size */
  snprintf(pragmas, sizeof pragmas, "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
           full ? "FULL" : "NORMAL");
  sqlite3_exec(r->db, pragmas, NULL, NULL, NULL);
  sqlite3_exec(r->db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL);
  return sqlite3_prepare_v2(r->db, "INSERT INTO t(v) VALUES('x')", -1, &r->ins, NULL) == SQLITE_OK ? 0 : -1;
}

/* n more commits, timed; -1 when one failed (a failed run is not a fast one) */
static int raw_commits(raw_db *r, int n) {
  double t0 = fhtime_monotonic();
  for (int i = 0; i < n; i++) {
    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK || sqlite3_step(r->ins) != SQLITE_DONE ||
        sqlite3_reset(r->ins) != SQLITE_OK || sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
  }
  r->seconds += fhtime_monotonic() - t0;
  r->commits += n;
  return 0;
}

static double raw_rate(const raw_db *r) { return r->seconds > 0 ? r->commits / r->seconds : 0; }

static void raw_close(raw_db *r, const char *path) {
  sqlite3_finalize(r->ins);
  sqlite3_close(r->db);
  bench_remove_db(path);
}

/* count(*) of the rows of process that match `where`, read back from the
 * file: the answers are checked in the database itself, since the starts
 * ask for no view (out = NULL).  -1 when it cannot be read. */
static int count_in(const char *path, const char *table, const char *where) {
  sqlite3 *db;
  sqlite3_stmt *q;
  int n = -1;
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s", table, where);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    n = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

static int count_processes(const char *path, const char *where) { return count_in(path, "process", where); }

/* Processes that ran to DONE. */
static int count_done(const char *path) { return count_processes(path, "status = 'DONE'"); }

/* The system actor every start runs as (set once in main, read-only after). */
static fh_actor bench_sys;

/* One process of the flow on an engine (one thread = one engine, with its
 * own Lua state and connection, as in serve); auto_lean is the same flow
 * with history = "lean" (its steps leave no task row: docs/flow-dsl.md). */
static int start_flow(void *e, json_t *data, const char *flow) {
  fherr err = {0};
  int rc = engine_start(e, &bench_sys, flow, "start", data, NULL, &err);
  if (rc) fprintf(stderr, "start failed: %s\n", err.message);
  fherr_clear(&err);
  return rc;
}

static int start_one(void *e, json_t *data) { return start_flow(e, data, "auto"); }
static int start_one_lean(void *e, json_t *data) { return start_flow(e, data, "auto_lean"); }

static int threads_slice(engine **engines, int n, int threads, int lean, double *seconds) {
  return bench_run_slice(lean ? start_one_lean : start_one, (void *const *)engines, n, threads, seconds);
}

/* The --threads form's flow: --flow, else auto or auto_lean (read-only once the threads run). */
static const char *named_flow;
static int start_named(void *e, json_t *data) { return start_flow(e, data, named_flow); }

/* --- the ceiling: one-row actions through the same group commit --------- */

#define CEILING_THREADS 8

static int insert_one(store *st, const void *arg, fherr *err) {
  (void)arg;
  int64_t id;
  return store_process_insert(st, "ceiling", PROC_DONE, "{}", 0, &id, err);
}

static int ceiling_one(void *st, json_t *data) {
  (void)data;
  fherr err = {0};
  int rc = store_write_fn(st, insert_one, NULL, &err);
  fherr_clear(&err);
  return rc;
}

static int ceiling_slice(store **stores, int n, double *seconds) {
  return bench_run_slice(ceiling_one, (void *const *)stores, n, CEILING_THREADS, seconds);
}

static int open_stores(const char *db, int full, store **stores) {
  bench_remove_db(db);
  for (int i = 0; i < CEILING_THREADS; i++) {
    fherr err = {0};
    store_options so = {.synchronous_full = full};
    if (store_open(db, &so, &stores[i], &err)) {
      fprintf(stderr, "store_open: %s\n", err.message);
      fherr_clear(&err);
      while (i > 0) store_close(stores[--i]);
      return 1;
    }
  }
  return 0;
}

/* Rows the ceiling phase left in its database (checked, as the processes are). */
static int count_rows(const char *path) { return count_processes(path, "flow = 'ceiling'"); }

/* The WAL syncs of the group commit during some slices, and the actions
 * they made durable (the host's own metrics: at FULL every commit's
 * actions reach a sync; at NORMAL there are none). */
typedef struct sync_count {
  unsigned long syncs, actions, syncs0, actions0;
} sync_count;

static void syncs_begin(sync_count *c) {
  unsigned long failed;
  metrics_wal_sync_totals(&c->syncs0, &c->actions0, &failed);
}

static void syncs_end(sync_count *c) {
  unsigned long s, a, failed;
  metrics_wal_sync_totals(&s, &a, &failed);
  c->syncs += s - c->syncs0;
  c->actions += a - c->actions0;
}

/* "; 4.21 actions per WAL sync" at FULL, "" at NORMAL */
static const char *per_sync(const sync_count *c, char *buf, size_t size) {
  if (!c->syncs) return "";
  snprintf(buf, size, "; %.2f actions per WAL sync", (double)c->actions / (double)c->syncs);
  return buf;
}

/* `threads` engines on db (after the first, which bench_open made); 0 on success */
static int open_engines(flowreg *reg, const char *db, int full, engine **engines, int threads) {
  for (int i = 0; i < threads; i++) {
    fherr err = {0};
    engine_options eo = {.flows = reg, .db_path = db, .synchronous_full = full};
    if (engine_open(&eo, &engines[i], &err)) {
      fprintf(stderr, "engine_open: %s\n", err.message);
      fherr_clear(&err);
      while (i > 0) engine_close(engines[--i]);
      return 1;
    }
  }
  return 0;
}

static void close_engines(engine **engines, int threads) {
  for (int i = 0; i < threads; i++) engine_close(engines[i]);
}

/* Only the K-thread phase, on named_flow: prints processes done and per second. */
static int threads_only(int n, int threads, int full, const char *db) {
  flowreg *reg;
  engine *first, *engines[16];
  if (bench_open(db, full, &reg, &first)) return 1;
  if (open_engines(reg, db, full, engines, threads)) return 1;
  double seconds = 0;
  sync_count sc = {0};
  syncs_begin(&sc);
  int started = bench_run_slice(start_named, (void *const *)engines, n, threads, &seconds);
  syncs_end(&sc);
  close_engines(engines, threads);
  engine_close(first);
  int done = count_done(db);
  bench_remove_db(db);
  char buf[64];
  printf("engine_bench: %s, %d threads, %d of %d processes done, %.0f processes/s, synchronous=%s%s\n",
         named_flow, threads, done, n, done / seconds, full ? "FULL" : "NORMAL", per_sync(&sc, buf, sizeof buf));
  flowreg_free(reg);
  return done == started && done == n / threads * threads ? 0 : 1;
}

/* A phase of the plain form: its database, time and starts. */
typedef struct phase {
  char db[64];
  int threads;
  int lean;   /* the flow of history = "lean" */
  double seconds;
  int started, done;
  sync_count syncs;
} phase;

int main(int argc, char **argv) {
  engine_library_init();   /* before the baseline's SQLite: both run with the same settings */
  fh_actor_system(&bench_sys);
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int full = 1, threads = 0, lean = 0;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--sync") && i + 1 < argc) full = strcmp(argv[++i], "normal") != 0;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--history") && i + 1 < argc) lean = !strcmp(argv[++i], "lean");
    else if (!strcmp(argv[i], "--flow") && i + 1 < argc) named_flow = argv[++i];
  }
  /* per run: two runs at once on this machine must not share a file */
  char base[64], ceiling_db[64], rows_db[64];
  /* one engine, 4 and 8 at once, and one and 8 on the lean flow */
  enum { NPHASES = 5 };
  phase ph[NPHASES] = {{.threads = 1}, {.threads = 4}, {.threads = 8}, {.threads = 1, .lean = 1}, {.threads = 8, .lean = 1}};
  for (int i = 0; i < NPHASES; i++) snprintf(ph[i].db, sizeof ph[i].db, "/tmp/flowhost-bench-%d-%d.db", (int)getpid(), i);
  snprintf(base, sizeof base, "/tmp/flowhost-bench-base-%d.db", (int)getpid());
  snprintf(ceiling_db, sizeof ceiling_db, "/tmp/flowhost-bench-ceiling-%d.db", (int)getpid());
  snprintf(rows_db, sizeof rows_db, "/tmp/flowhost-bench-rows-%d.db", (int)getpid());
  if (threads > 0 && threads <= 16) {
    if (!named_flow) named_flow = lean ? "auto_lean" : "auto";
    return threads_only(n, threads, full, ph[0].db);
  }

  raw_db raw;
  flowreg *reg;
  engine *e, *engines[NPHASES][8];
  if (raw_open(&raw, base, full)) return fprintf(stderr, "cannot open the baseline's database\n"), 1;
  if (bench_open(ph[0].db, full, &reg, &e)) return 1;
  for (int i = 1; i < NPHASES; i++) {
    bench_remove_db(ph[i].db);
    if (open_engines(reg, ph[i].db, full, engines[i], ph[i].threads)) return 1;
  }
  store *stores[CEILING_THREADS];
  if (open_stores(ceiling_db, full, stores)) return 1;
  double ceiling_seconds = 0;
  int ceiling_done = 0;
  sync_count ceiling_syncs = {0};
  json_t *data = json_pack("{s:i}", "n", 3);
  int slice = n / ROUNDS, raw_failed = 0, rows_failed = 0;
  rows_alone *rows = NULL;
  char rows_msg[256] = "";
  for (int r = 0; r < ROUNDS; r++) {
    raw_failed |= raw_commits(&raw, slice);
    double t0 = fhtime_monotonic();
    syncs_begin(&ph[0].syncs);
    for (int i = 0; i < slice; i++) ph[0].started += start_one(e, data) == FH_OK;
    ph[0].seconds += fhtime_monotonic() - t0;
    syncs_end(&ph[0].syncs);
    /* the floor: the rows of the first process the engine wrote, alone */
    if (r == 0 && !(rows = rows_alone_open(ph[0].db, rows_db, full, rows_msg, sizeof rows_msg))) rows_failed = 1;
    if (rows && rows_alone_run(rows, slice, rows_msg, sizeof rows_msg)) rows_failed = 1;
    for (int i = 1; i < NPHASES; i++) {
      syncs_begin(&ph[i].syncs);
      ph[i].started += threads_slice(engines[i], slice, ph[i].threads, ph[i].lean, &ph[i].seconds);
      syncs_end(&ph[i].syncs);
    }
    syncs_begin(&ceiling_syncs);
    ceiling_done += ceiling_slice(stores, slice, &ceiling_seconds);
    syncs_end(&ceiling_syncs);
  }
  for (int i = 0; i < CEILING_THREADS; i++) store_close(stores[i]);
  double rows_rate = rows ? rows_alone_rate(rows) : 0;
  int shape[3] = {0, 0, 0};
  if (rows) rows_alone_shape(rows, &shape[0], &shape[1], &shape[2]);
  if (rows && rows_alone_close(rows) && !rows_msg[0]) snprintf(rows_msg, sizeof rows_msg, "its database does not hold the rows written");
  int ceiling_rows = count_rows(ceiling_db);
  bench_remove_db(ceiling_db);
  json_decref(data);
  engine_close(e);
  for (int i = 1; i < NPHASES; i++) close_engines(engines[i], ph[i].threads);
  double baseline = raw_rate(&raw);
  raw_close(&raw, base);
  int ok = !raw_failed, lean_tasks = 0;
  for (int i = 0; i < NPHASES; i++) {
    ph[i].done = count_done(ph[i].db);
    /* the lean flow's processes wrote no task: else it measured the full one */
    if (ph[i].lean) lean_tasks += count_in(ph[i].db, "task", "1");
    bench_remove_db(ph[i].db);
    /* an answer that does not match the database fails the run */
    ok &= ph[i].done == ph[i].started && ph[i].done == slice / ph[i].threads * ph[i].threads * ROUNDS;
  }
  ok &= !rows_msg[0] && !rows_failed && lean_tasks == 0;
  ok &= ceiling_rows == ceiling_done && ceiling_done == slice / CEILING_THREADS * CEILING_THREADS * ROUNDS;
  double pps[NPHASES];
  for (int i = 0; i < NPHASES; i++) pps[i] = ph[i].done / ph[i].seconds;
  printf("engine_bench: %d processes (StartFunction -> Handler -> If -> Handler -> End), synchronous=%s,\n"
         "  the baseline and each phase alternating in %d rounds\n",
         slice * ROUNDS, full ? "FULL" : "NORMAL", ROUNDS);
  printf("  processes completed     %d of %d\n", ph[0].done, slice * ROUNDS);
  printf("  processes/second        %.0f\n", pps[0]);
  printf("  sqlite commits/second   %.0f   (one-row BEGIN IMMEDIATE ... COMMIT, same disk, same rounds)%s\n", baseline,
         raw_failed ? "  FAILED" : "");
  char buf[64];
  printf("  ratio                   %.2f processes per raw commit%s\n", pps[0] / baseline,
         per_sync(&ph[0].syncs, buf, sizeof buf));
  printf("  the same rows alone     %.0f processes/s (%.2f per raw commit): %d process, %d task and %d audit rows a\n"
         "                          transaction, plain statements, flowhost's schema; the engine at %.0f%% of it%s%s\n",
         rows_rate, rows_rate / baseline, shape[0], shape[1], shape[2], rows_rate > 0 ? 100 * pps[0] / rows_rate : 0,
         rows_msg[0] ? "  FAILED: " : "", rows_msg);
  for (int i = 1; i < 3; i++)
    printf("  %d threads at once       %.0f processes/s (%.2f per raw commit; %d done%s)\n", ph[i].threads, pps[i],
           pps[i] / baseline, ph[i].done, per_sync(&ph[i].syncs, buf, sizeof buf));
  printf("  history = \"lean\"        the same flow, its steps leaving no task row (%d task rows written%s):\n",
         lean_tasks, lean_tasks ? "  FAILED" : "");
  for (int i = 3; i < NPHASES; i++)
    printf("    %d thread%s             %.0f processes/s (%.2f per raw commit; %d done%s)\n", ph[i].threads,
           ph[i].threads > 1 ? "s" : " ", pps[i], pps[i] / baseline, ph[i].done, per_sync(&ph[i].syncs, buf, sizeof buf));
  double ceiling = ceiling_seconds > 0 ? ceiling_rows / ceiling_seconds : 0;
  printf("  ceiling, 8 threads      %.0f one-row actions/s through the same group commit (%.2f per raw commit; %d done%s)\n",
         ceiling, ceiling / baseline, ceiling_rows, per_sync(&ceiling_syncs, buf, sizeof buf));
  flowreg_free(reg);
  return ok ? 0 : 1;
}
