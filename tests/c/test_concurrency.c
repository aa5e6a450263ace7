/* Concurrency invariants on a real database file shared by several
 * engines on several threads (each engine: its own Lua state and SQLite
 * connection, as in `flowhost serve`):
 *  - many threads executing the branches of one Split at the same moment
 *    produce exactly one Join continuation per process;
 *  - several job workers never run the same job's follow-up twice;
 *  - engines of different hosts (each its own flow registry, so the host's
 *    in-process lock does not join them) take turns on one process: on
 *    PostgreSQL the cross-host process lock makes every action compute on
 *    the latest state, so none starts over;
 *  - without that lock (lock = "none") they compute at once, and the
 *    version check of their writes alone keeps one Join continuation;
 *  - a task action that finds its process's lock of this host taken lets
 *    go of the database's lock it got with the task's look-up before it
 *    waits (else the holder, waiting for the database's, would deadlock
 *    with it until the lock timeout), and does not compute on the process
 *    it read with that look-up, which the holder may change meanwhile. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "engine_internal.h"
#include "metrics.h"
#include "test.h"

#define THREADS 4
#define PROCESSES 60

static char db_file[64], db_url[512];
static const char *db_path;   /* db_file, or a PostgreSQL database (FLOWHOST_TEST_PG) */
static flowreg *reg;

static int setup(void) {
  snprintf(db_file, sizeof db_file, "/tmp/flowhost-conc-%d.db", (int)getpid());
  db_path = test_db(db_file, db_url, sizeof db_url);
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/tests/fixtures/stress", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  reg = flowreg_new(flows, lua, &err);
  if (!reg || flowreg_load_all(reg, &err)) {
    fprintf(stderr, "flows: %s\n", err.message);
    return 1;
  }
  flowgen *gen = flowreg_acquire(reg);
  int bad = flowgen_count_errors(gen);
  flowgen_release(reg, gen);
  return bad;
}

static void teardown(void) {
  flowreg_free(reg);
  test_remove_db(db_file);
}

static flowreg *host_reg[4];   /* test_hosts_take_turns: a registry per "host", else NULL */

static engine *open_engine_of(flowreg *flows, const char *name) {
  engine *e = NULL;
  fherr err = {0};
  engine_options eo = {.flows = flows, .db_path = db_path, .synchronous_full = 0, .worker_name = name};
  if (engine_open(&eo, &e, &err)) fprintf(stderr, "engine: %s\n", err.message);
  return e;
}

static engine *open_engine(const char *name) { return open_engine_of(reg, name); }

static json_t *function_task_ids;   /* filled before the threads start */

static void *execute_all(void *arg) {
  long seed = (long)(intptr_t)arg;
  flowreg *own = host_reg[(seed - 1) % 4];
  engine *e = open_engine_of(own ? own : reg, "exec");
  fh_actor sys;
  fh_actor_system(&sys);
  size_t n = json_array_size(function_task_ids);
  size_t *order = malloc(n * sizeof *order);
  for (size_t i = 0; i < n; i++) order[i] = i;
  unsigned int r = (unsigned int)seed;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = rand_r(&r) % (i + 1);
    size_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  long unexpected = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t id = json_integer_value(json_array_get(function_task_ids, order[i]));
    for (;;) {
      json_t *out = NULL;
      fherr err = {0};
      int rc = engine_task_action(e, &sys, id, "execute", NULL, &out, &err);
      json_decref(out);
      /* FH_STALE: eight tries all found the process written meanwhile
       * (SQLite, engines of different hosts); a client tries again */
      if (rc != FH_OK && rc != FH_CONFLICT && rc != FH_BUSY && rc != FH_STALE) {
        fprintf(stderr, "  execute %lld: %d %s\n", (long long)id, rc, err.message);
        unexpected++;
      }
      fherr_clear(&err);
      if (rc == FH_BUSY || rc == FH_STALE) continue;
      break;
    }
  }
  free(order);
  engine_close(e);
  return (void *)(intptr_t)unexpected;
}

static int count_tasks(json_t *tasks, const char *node, const char *status) {
  int n = 0;
  size_t i;
  json_t *t;
  json_array_foreach(tasks, i, t) {
    if (!strcmp(json_string_value(json_object_get(t, "node")), node) &&
        (!status || !strcmp(json_string_value(json_object_get(t, "status")), status)))
      n++;
  }
  return n;
}

/* Races the branches of PROCESSES processes of flow (fanout or
 * fanout_unlocked) over THREADS engines and checks one Join continuation
 * each. */
static int race_split_join(const char *flow) {
  engine *e = open_engine("main");
  CHECK(e);
  fh_actor sys;
  fh_actor_system(&sys);
  function_task_ids = json_array();
  json_t *pids = json_array();
  for (int p = 0; p < PROCESSES; p++) {
    json_t *out;
    fherr err = {0};
    CHECK(engine_start(e, &sys, flow, "start", NULL, &out, &err) == FH_OK);
    json_array_append(pids, json_object_get(json_object_get(out, "process"), "id"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(out, "tasks"), i, t) {
      if (!strcmp(json_string_value(json_object_get(t, "type")), "function"))
        json_array_append(function_task_ids, json_object_get(t, "id"));
    }
    json_decref(out);
  }
  CHECK(json_array_size(function_task_ids) == PROCESSES * 4);
  pthread_t threads[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, execute_all, (void *)(i + 1)) == 0);
  long unexpected = 0;
  for (int i = 0; i < THREADS; i++) {
    void *res;
    pthread_join(threads[i], &res);
    unexpected += (long)(intptr_t)res;
  }
  CHECK(unexpected == 0);
  size_t i;
  json_t *pid;
  json_array_foreach(pids, i, pid) {
    json_t *out;
    fherr err = {0};
    CHECK(engine_process_get(e, &sys, json_integer_value(pid), &out, &err) == FH_OK);
    json_t *proc = json_object_get(out, "process"), *tasks = json_object_get(out, "tasks");
    CHECK_STR(json_string_value(json_object_get(proc, "status")), "DONE");
    CHECK(json_integer_value(json_object_get(json_object_get(proc, "data"), "continuations")) == 1);
    CHECK(count_tasks(tasks, "join", NULL) == 1);
    CHECK(count_tasks(tasks, "count", "DONE") == 1);
    CHECK(count_tasks(tasks, "finish", "DONE") == 1);
    for (int b = 1; b <= 4; b++) {
      char name[8];
      snprintf(name, sizeof name, "b%d", b);
      CHECK(count_tasks(tasks, name, "DONE") == 1);
    }
    json_decref(out);
  }
  json_decref(pids);
  json_decref(function_task_ids);
  engine_close(e);
  return 0;
}

static int test_split_join_race(void) {
  CHECK(setup() == 0);
  CHECK(race_split_join("fanout") == 0);
  teardown();
  return 0;
}

/* Opens a flow registry per "host" (host_reg): engines of different hosts
 * share no in-process lock. */
static int open_hosts(void) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/tests/fixtures/stress", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  for (int h = 0; h < 4; h++) {
    fherr err = {0};
    host_reg[h] = flowreg_new(flows, lua, &err);
    CHECK(host_reg[h] && flowreg_load_all(host_reg[h], &err) == 0);
  }
  return 0;
}

static void close_hosts(void) {
  for (int h = 0; h < 4; h++) {
    flowreg_free(host_reg[h]);
    host_reg[h] = NULL;
  }
}

static int test_hosts_take_turns(void) {
  CHECK(setup() == 0);
  CHECK(open_hosts() == 0);
  unsigned long before = metrics_action_restarts();
  CHECK(race_split_join("fanout") == 0);
  unsigned long restarts = metrics_action_restarts() - before;
  printf("  hosts_take_turns: %lu actions started over\n", restarts);
  /* SQLite has no cross-host lock: there the version check alone keeps the
   * data right (checked above), and actions may start over */
  if (getenv("FLOWHOST_TEST_PG")) CHECK(restarts == 0);
  close_hosts();
  teardown();
  return 0;
}

/* The same race without the process lock (lock = "none"): hosts compute
 * on one process at once, the version check of the writes alone keeps one
 * Join continuation per process (on PostgreSQL the server refuses a stale
 * write, sent ahead: store_sql_pg.c's Q_PROC_UPDATE_CHECKED), and the
 * losers start over. */
static int test_hosts_race_unlocked(void) {
  CHECK(setup() == 0);
  CHECK(open_hosts() == 0);
  unsigned long before = metrics_action_restarts();
  CHECK(race_split_join("fanout_unlocked") == 0);
  unsigned long restarts = metrics_action_restarts() - before;
  printf("  hosts_race_unlocked: %lu actions started over\n", restarts);
  close_hosts();
  teardown();
  return 0;
}

static void *run_jobs(void *arg) {
  (void)arg;
  engine *e = open_engine("worker");
  long failures = 0;
  for (int idle = 0; idle < 3;) {
    int ran = 0;
    fherr err = {0};
    int rc = engine_run_due(e, 0, &ran, &err);
    if (rc && rc != FH_BUSY) failures++;
    fherr_clear(&err);
    idle = ran ? 0 : idle + 1;
    if (!ran) usleep(10000);
  }
  engine_close(e);
  return (void *)(intptr_t)failures;
}

static int test_job_workers_race(void) {
  CHECK(setup() == 0);
  engine *e = open_engine("main");
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *pids = json_array();
  for (int p = 0; p < PROCESSES; p++) {
    json_t *out;
    fherr err = {0};
    CHECK(engine_start(e, &sys, "jobs", "start", NULL, &out, &err) == FH_OK);
    json_array_append(pids, json_object_get(json_object_get(out, "process"), "id"));
    json_decref(out);
  }
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, run_jobs, NULL) == 0);
  long failures = 0;
  for (int i = 0; i < THREADS; i++) {
    void *res;
    pthread_join(threads[i], &res);
    failures += (long)(intptr_t)res;
  }
  CHECK(failures == 0);
  size_t i;
  json_t *pid;
  json_array_foreach(pids, i, pid) {
    json_t *out;
    fherr err = {0};
    CHECK(engine_process_get(e, &sys, json_integer_value(pid), &out, &err) == FH_OK);
    json_t *proc = json_object_get(out, "process"), *tasks = json_object_get(out, "tasks");
    CHECK_STR(json_string_value(json_object_get(proc, "status")), "DONE");
    CHECK(json_integer_value(json_object_get(json_object_get(proc, "data"), "after")) == 1);
    CHECK(count_tasks(tasks, "j1", "DONE") == 1 && count_tasks(tasks, "j2", "DONE") == 1);
    CHECK(count_tasks(tasks, "after", NULL) == 1);
    json_decref(out);
  }
  json_decref(pids);
  engine_close(e);
  teardown();
  return 0;
}

typedef struct one_action {
  int64_t task_id;
  int rc;
  char why[1024];
} one_action;

static void *execute_one(void *arg) {
  one_action *a = arg;
  engine *e = open_engine("act");
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *out = NULL;
  fherr err = {0};
  a->rc = e ? engine_task_action(e, &sys, a->task_id, "execute", NULL, &out, &err) : FH_INTERNAL;
  snprintf(a->why, sizeof a->why, "%s", err.message);
  json_decref(out);
  engine_close(e);
  return NULL;
}

/* PostgreSQL: 1 once a session of this database other than conn's has
 * released an advisory lock as its last statement and gone idle. */
static int someone_unlocked(PGconn *conn) {
  PGresult *res = PQexec(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                               " AND pid <> pg_backend_pid() AND state = 'idle'"
                               " AND query LIKE 'SELECT pg_advisory_unlock%'");
  int yes = PQresultStatus(res) == PGRES_TUPLES_OK && atoi(PQgetvalue(res, 0, 0)) > 0;
  PQclear(res);
  return yes;
}

static int test_task_lock_order(void) {
  CHECK(setup() == 0);
  engine *e = open_engine("main");
  CHECK(e);
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *out = NULL;
  fherr err = {0};
  CHECK(engine_start(e, &sys, "fanout", "start", NULL, &out, &err) == FH_OK);
  int64_t pid = json_integer_value(json_object_get(json_object_get(out, "process"), "id"));
  one_action a = {0};
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(out, "tasks"), i, t) {
    if (!strcmp(json_string_value(json_object_get(t, "type")), "function"))
      a.task_id = json_integer_value(json_object_get(t, "id"));
  }
  json_decref(out);
  CHECK(pid && a.task_id);
  engine_lock_process(reg, pid);   /* this host is acting on the process */
  unsigned long restarts = metrics_action_restarts();
  pthread_t th;
  CHECK(pthread_create(&th, NULL, execute_one, &a) == 0);
  int free_again = 1;
  if (getenv("FLOWHOST_TEST_PG")) {
    PGconn *conn = PQconnectdb(db_path);
    CHECK(PQstatus(conn) == CONNECTION_OK);
    /* the action took the database's lock with its look-up, found this
     * host's taken and let the database's go: wait (bounded) for that */
    int seen = 0;
    for (int tries = 0; tries < 1000 && !(seen = someone_unlocked(conn)); tries++) usleep(10000);
    CHECK(seen);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)pid);
    PGresult *res = PQexec(conn, sql);
    free_again = PQresultStatus(res) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%lld)", (long long)pid);
    PQclear(PQexec(conn, sql));
    PQfinish(conn);
  } else {
    usleep(50000);   /* SQLite: the action waits for this host's lock */
  }
  /* what this host's own action writes while the other waits: the process
   * the waiting action read with the database's lock (PostgreSQL) is old
   * now, and it must read it again once it holds both, not compute on what
   * it read before (its write would be refused and the action start over) */
  CHECK(store_process_update(e->st, pid, PROC_STARTED, "{\"meanwhile\":1}", NULL, &err) == FH_OK);
  engine_unlock_process(reg, pid);
  pthread_join(th, NULL);
  CHECK(free_again);   /* nobody held the database's lock while waiting for this host's */
  if (a.rc != FH_OK) fprintf(stderr, "  execute: %d %s\n", a.rc, a.why);
  CHECK(a.rc == FH_OK);
  unsigned long restarted = metrics_action_restarts() - restarts;
  if (restarted) fprintf(stderr, "  the action started over %lu time(s)\n", restarted);
  CHECK(restarted == 0);
  engine_close(e);
  teardown();
  return 0;
}

static const test_case TESTS[] = {
    {"split_join_race", test_split_join_race},
    {"job_workers_race", test_job_workers_race},
    {"hosts_take_turns", test_hosts_take_turns},
    {"hosts_race_unlocked", test_hosts_race_unlocked},
    {"task_lock_order", test_task_lock_order},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
