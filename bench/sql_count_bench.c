/* SQL statements per helloworld process: N processes go the way of the
 * HTTP cycle in process (alice starts, bob assigns and executes the approve
 * task with approved = true, the Handler sends, the process ends DONE), and
 * every statement SQLite runs for them is counted.  The program defines
 * sqlite3_step and sqlite3_exec itself, so the engine's calls reach these
 * wrappers first (SQLite is a shared library); a statement counts once per
 * execution (its first step after a reset), a sqlite3_exec once per call.
 * SQL_TRACE=1 prints the statements of the first process.
 *
 * On PostgreSQL (DB a postgresql:// URL) libpq is loaded at run time, so no
 * wrapper sees its calls: there the counts are the statement shim's own
 * (metrics_db: the statements executed and the round trips the host waited
 * for, per phase), the figures GET /metrics reports.  SQL_TRACE shows
 * nothing there; the server's log (log_min_duration_statement = 0) does.
 *
 *   sql_count_bench DB [N]   (DB holds users alice (helloworld.start) and bob
 *                             (helloworld.approve); flows from $FLOWHOST_SOURCE/flows)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fhtime.h"
#include "identity.h"
#include "metrics_db.h"

enum { PH_START, PH_ASSIGN, PH_EXECUTE, PH__N };
static const char *const PHASES[PH__N] = {"start", "assign", "execute"};
static long counted[PH__N];
static int phase = -1, trace, on_pg;
/* PostgreSQL: the shim's counters, summed per phase */
static uint64_t pg_statements[PH__N], pg_trips[PH__N];

/* Enters phase p (-1: none), crediting the shim's counts since the last
 * call to the phase that ends. */
static void enter(int p) {
  static uint64_t st0, rt0;
  uint64_t st, rt;
  metrics_db_read(METRICS_DB_POSTGRESQL, &st, &rt);
  if (phase >= 0) {
    pg_statements[phase] += st - st0;
    pg_trips[phase] += rt - rt0;
  }
  st0 = st;
  rt0 = rt;
  phase = p;
}

static void seen(const char *sql) {
  if (phase < 0) return;
  counted[phase]++;
  if (trace) fprintf(stderr, "  [%s] %s\n", PHASES[phase], sql);
}

int sqlite3_step(sqlite3_stmt *s) {
  static int (*real)(sqlite3_stmt *);
  if (!real) *(void **)&real = dlsym(RTLD_NEXT, "sqlite3_step");
  if (!sqlite3_stmt_busy(s)) seen(sqlite3_sql(s));
  return real(s);
}

int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg, char **msg) {
  static int (*real)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
  if (!real) *(void **)&real = dlsym(RTLD_NEXT, "sqlite3_exec");
  seen(sql);
  return real(db, sql, cb, arg, msg);
}

/* One process through the cycle; 0 when it ended DONE. */
static int one_process(engine *e, const fh_actor *alice, const fh_actor *bob, int i) {
  fherr err = {0};
  json_t *out = NULL, *data = json_pack("{s:s}", "text", "bench message");
  enter(PH_START);
  int rc = engine_start(e, alice, "helloworld", "start", data, &out, &err);
  json_decref(data);
  int64_t approve = 0;
  size_t k;
  json_t *t;
  if (!rc) json_array_foreach(json_object_get(out, "tasks"), k, t)
    if (!strcmp(json_string_value(json_object_get(t, "node")), "approve")) approve = json_integer_value(json_object_get(t, "id"));
  json_decref(out);
  out = NULL;
  enter(PH_ASSIGN);
  if (!rc && approve) rc = engine_task_action(e, bob, approve, "assign", NULL, &out, &err);
  json_decref(out);
  out = NULL;
  enter(PH_EXECUTE);
  json_t *args = json_pack("{s:{s:b}}", "data", "approved", 1);
  if (!rc && approve) rc = engine_task_action(e, bob, approve, "execute", args, &out, &err);
  json_decref(args);
  enter(-1);
  const char *status = out ? json_string_value(json_object_get(json_object_get(out, "process"), "status")) : NULL;
  int ok = !rc && approve && status && !strcmp(status, "DONE");
  if (!ok) fprintf(stderr, "process %d: %s (status %s)\n", i, rc ? err.message : "no approve task", status ? status : "-");
  json_decref(out);
  trace = 0;
  return !ok;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: sql_count_bench DB [N]\n"), 2;
  int n = argc > 2 ? atoi(argv[2]) : 100;
  on_pg = !strncmp(argv[1], "postgres", 8);
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  flowreg *reg = flowreg_new(flows, lua, &err);
  if (!reg || flowreg_load_all(reg, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  engine *e;
  engine_options eo = {.flows = reg, .db_path = argv[1], .synchronous_full = 0};
  if (engine_open(&eo, &e, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  fh_actor alice, bob;
  if (identity_actor(e, "alice", &alice, &err) || identity_actor(e, "bob", &bob, &err))
    return fprintf(stderr, "%s\n", err.message), 1;
  /* the engine's one-time work (recording the loaded flows' versions,
   * indexing search fields) happens at its first request: not per process */
  json_t *warm = NULL;
  if (engine_flows_list(e, &alice, &warm, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  json_decref(warm);
  trace = getenv("SQL_TRACE") && *getenv("SQL_TRACE") == '1';
  int failed = 0;
  double t0 = fhtime_monotonic();
  for (int i = 0; i < n && !failed; i++) failed = one_process(e, &alice, &bob, i);
  double dt = fhtime_monotonic() - t0;
  double total = 0, trips = 0;
  printf("sql_count_bench: %d helloworld processes (start, assign, execute), %s per process\n", n,
         on_pg ? "PostgreSQL statements and round trips" : "SQLite statements");
  for (int p = 0; p < PH__N; p++) {
    double per = (double)(on_pg ? (long)pg_statements[p] : counted[p]) / n, rt = (double)pg_trips[p] / n;
    total += per;
    trips += rt;
    if (on_pg) printf("  %-8s %6.1f %6.1f\n", PHASES[p], per, rt);
    else printf("  %-8s %6.1f\n", PHASES[p], per);
  }
  if (on_pg) printf("  %-8s %6.1f %6.1f\n", "total", total, trips);
  else printf("  %-8s %6.1f\n", "total", total);
  printf("  processes/s %.0f (synchronous=NORMAL, counting included)\n", n / dt);
  fh_actor_free(&alice);
  fh_actor_free(&bob);
  engine_close(e);
  flowreg_free(reg);
  return failed;
}
