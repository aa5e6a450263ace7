/* Short write transactions: a Lua callback must not hold the database
 * writer while it runs.  Deterministic, not timed: thread A starts `slow`,
 * whose Handler waits in Lua until a gate file exists (the test opens the
 * gate only at the end).  While A is provably inside its handler (it made
 * the `started` marker; it has neither returned nor made the `gave_up`
 * marker), the main thread starts QUICK processes of `quick` through its
 * own engine on the same database file (so the same shared writer).  Each
 * must succeed (DONE) and all must complete before A leaves its handler.
 * Then the gate opens and A's process must end DONE.
 *
 * Failure mode on an engine that keeps the writer for the whole action,
 * Lua included (the code before the short-transaction change): the first
 * quick start blocks on the writer mutex until A's handler gives up (4 to
 * 5 s: os.time has whole seconds), makes `gave_up` and raises, and A's
 * start rolls back; only then do the quick starts run (all succeed).  The
 * test then fails with
 *   the 20 quick starts took 4.42 s; A gave up before they completed
 *   A's start failed: .../short_txn/slow.lua:38: the gate file never appeared: gave up after 5 s
 *   tests/c/test_short_txn.c:NNN: check failed: inside && "the quick starts completed while A was inside its handler"
 * in about 4.5 s.  With the writer free during Lua it passes in well under
 * a second.  The database, gate and marker files live in a mkdtemp folder
 * removed at the end, whether the test passes or fails. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fhtime.h"
#include "test.h"

#define QUICK 20

static char dir[64], db_path[128], gate[128], started[128], gave_up[128];
static flowreg *reg;

static int file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static void touch(const char *path) {
  FILE *f = fopen(path, "w");
  if (f) fclose(f);
}

static engine *open_engine(const char *name, double budget) {
  engine *e = NULL;
  fherr err = {0};
  engine_options eo = {.flows = reg, .db_path = db_path, .synchronous_full = 0, .worker_name = name,
                       .budget_seconds = budget};
  if (engine_open(&eo, &e, &err)) fprintf(stderr, "  engine: %s\n", err.message);
  fherr_clear(&err);
  return e;
}

typedef struct slow_result {
  engine *e;
  int rc;                /* engine_start's return code */
  char message[1024];    /* its error message, if any */
  int64_t process_id;
  char status[32];       /* the returned process's status */
  int returned;          /* atomic: engine_start has returned */
} slow_result;

static void *run_slow(void *arg) {
  slow_result *r = arg;
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *data = json_pack("{s:s,s:s,s:s}", "gate", gate, "started", started, "gave_up", gave_up);
  json_t *out = NULL;
  fherr err = {0};
  r->rc = engine_start(r->e, &sys, "slow", "start", data, &out, &err);
  if (r->rc) {
    snprintf(r->message, sizeof r->message, "%s", err.message);
  } else {
    json_t *proc = json_object_get(out, "process");
    r->process_id = json_integer_value(json_object_get(proc, "id"));
    const char *s = json_string_value(json_object_get(proc, "status"));
    snprintf(r->status, sizeof r->status, "%s", s ? s : "");
  }
  fherr_clear(&err);
  json_decref(out);
  json_decref(data);
  __atomic_store_n(&r->returned, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* Starts the quick processes and checks them; 0 when all are DONE. */
static int start_quick(engine *e) {
  fh_actor sys;
  fh_actor_system(&sys);
  for (int i = 0; i < QUICK; i++) {
    json_t *out = NULL, *data = json_pack("{s:i}", "n", i);
    fherr err = {0};
    int rc = engine_start(e, &sys, "quick", "start", data, &out, &err);
    json_decref(data);
    if (rc) fprintf(stderr, "  quick start %d: %s\n", i, err.message);
    fherr_clear(&err);
    CHECK(rc == FH_OK);
    json_t *proc = json_object_get(out, "process");
    CHECK(json_integer_value(json_object_get(proc, "id")) > 0);
    CHECK_STR(json_string_value(json_object_get(proc, "status")), "DONE");
    CHECK(json_integer_value(json_object_get(json_object_get(proc, "data"), "n")) == 2 * i);
    json_decref(out);
  }
  return 0;
}

static int test_handler_outside_writer(void) {
  snprintf(dir, sizeof dir, "/tmp/flowhost-short-txn-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(db_path, sizeof db_path, "%s/db", dir);
  snprintf(gate, sizeof gate, "%s/gate", dir);
  snprintf(started, sizeof started, "%s/started", dir);
  snprintf(gave_up, sizeof gave_up, "%s/gave_up", dir);
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/tests/fixtures/short_txn", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  reg = flowreg_new(flows, lua, &err);
  if (reg) flowreg_set_lua_unsafe(reg, 1);   /* the fixture's handler makes and reads files */
  int rc = reg ? flowreg_load_all(reg, &err) : FH_INTERNAL;
  if (rc) fprintf(stderr, "  flows: %s\n", err.message);
  CHECK(rc == FH_OK);
  flowgen *gen = flowreg_acquire(reg);
  int bad = flowgen_count_errors(gen);
  flowgen_release(reg, gen);
  CHECK(bad == 0);

  /* Both engines are open (schema made) before A starts.  A's budget is
   * above the handler's own 5 s give-up, so that give-up is what ends it. */
  engine *e = open_engine("main", 0);
  slow_result a = {.e = open_engine("slow", 30)};
  CHECK(e && a.e);

  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, run_slow, &a) == 0);
  /* Bounded wait for A's handler to run (it gives up by itself after 5 s). */
  for (int i = 0; i < 1000 && !file_exists(started) && !__atomic_load_n(&a.returned, __ATOMIC_SEQ_CST); i++)
    usleep(10000);
  int a_started = file_exists(started);

  int quick_failed = 1, inside = 0;
  double waited = 0;
  if (a_started) {
    double t0 = fhtime_monotonic();
    quick_failed = start_quick(e);
    waited = fhtime_monotonic() - t0;
    /* The gate is not open yet, so A can only be inside its handler, or
     * have given up (the marker is made before the raise, so before A's
     * action ends and before any writer it holds is released). */
    inside = !file_exists(gave_up) && !__atomic_load_n(&a.returned, __ATOMIC_SEQ_CST);
    if (!inside)
      fprintf(stderr, "  the %d quick starts took %.2f s; A gave up before they completed\n", QUICK, waited);
  }

  touch(gate);
  pthread_join(thread, NULL);
  if (a.rc) fprintf(stderr, "  A's start failed: %s\n", a.message);

  /* A's process, read back through the main engine */
  char final_status[32] = "";
  if (a.rc == FH_OK && a.process_id > 0) {
    fh_actor sys;
    fh_actor_system(&sys);
    json_t *out = NULL;
    if (engine_process_get(e, &sys, a.process_id, &out, &err) == FH_OK) {
      json_t *proc = json_object_get(out, "process");
      const char *s = json_string_value(json_object_get(proc, "status"));
      snprintf(final_status, sizeof final_status, "%s", s ? s : "");
      if (json_object_get(json_object_get(proc, "data"), "passed_gate") != json_true()) final_status[0] = 0;
    }
    fherr_clear(&err);
    json_decref(out);
  }

  engine_close(a.e);
  engine_close(e);
  flowreg_free(reg);
  test_remove_db(db_path);
  unlink(gate);
  unlink(started);
  unlink(gave_up);
  rmdir(dir);

  CHECK(a_started);
  CHECK(quick_failed == 0);
  CHECK(inside && "the quick starts completed while A was inside its handler");
  CHECK(a.rc == FH_OK && "A's process completed (DONE)");
  CHECK_STR(a.status, "DONE");
  CHECK_STR(final_status, "DONE");
  return 0;
}

static const test_case TESTS[] = {
    {"handler_outside_writer", test_handler_outside_writer},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
