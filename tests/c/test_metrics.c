/* Tests of the metrics unit (metrics.c) and of the store's metric queries
 * (store_metrics.c): counters added from several threads at once sum up
 * exactly (run it under TSan too; WAL syncs too), route slots are shared and bounded,
 * the exposition is well formed, and the scrape-time queries use their
 * index (the task counts read nothing else; the cost at 1M processes:
 * bench/metrics_bench.sh), and a job claimed again after its worker's
 * lease ran out counts as one lease expiry. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "engine.h"
#include "engine_metrics.h"
#include "fherr.h"
#include "fhtime.h"
#include "metrics.h"
#include "store.h"
#include "store_metrics.h"
#include "test.h"

#define THREADS 4
#define ROUNDS 20000

static const char *const METHOD = "GET";
static const char *const PREFIX = "/api/";
static const char *const PATTERNS[] = {"tasks", "tasks/{id}", "flows"};

static void *hammer(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    metrics_action_done(METRICS_ACTION_START, i % 2 ? FH_OK : FH_STALE, fhtime_monotonic());
    metrics_commit(1 + i % 3, 0);
    metrics_http_request(metrics_http_route(METHOD, PREFIX, PATTERNS[i % 3]), 200, 0.001);
    metrics_job_running(1);
    metrics_job_running(-1);
    metrics_wal_sync(i % 2 ? 0.0002 : 0.003, 1 + (unsigned long)(i % 4), 1);   /* 1..4 actions, 0.2 or 3 ms */
  }
  metrics_wal_sync(0.001, 0, 0);   /* one failure per thread: no duration, no actions */
  return NULL;
}

/* The value of one series in the exposition, or -1. */
static double series(const char *text, const char *name) {
  size_t n = strlen(name);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp(p, name, n) && p[n] == ' ') return strtod(p + n + 1, NULL);
  return -1;
}

static int test_counters_threads(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, hammer, NULL) == 0);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  metrics_buf b = {0};
  metrics_render(&b);
  CHECK(!b.failed && b.text);
  CHECK(series(b.text, "flowhost_actions_total{kind=\"start\",outcome=\"ok\"}") == THREADS * ROUNDS / 2);
  /* FH_STALE is the client's 409: counted as conflict */
  CHECK(series(b.text, "flowhost_actions_total{kind=\"start\",outcome=\"conflict\"}") == THREADS * ROUNDS / 2);
  CHECK(series(b.text, "flowhost_action_duration_seconds_count{kind=\"start\"}") == THREADS * ROUNDS);
  CHECK(series(b.text, "flowhost_commits_total") == THREADS * ROUNDS);
  CHECK(series(b.text, "flowhost_actions_per_commit_bucket{le=\"2\"}") >= THREADS * ROUNDS * 2 / 3 - THREADS);
  CHECK(series(b.text, "flowhost_jobs_running") == 0);
  /* the WAL syncs: their count twice, the actions they made durable, the
   * failures apart; buckets are cumulative */
  CHECK(series(b.text, "flowhost_wal_sync_duration_seconds_count") == THREADS * ROUNDS);
  CHECK(series(b.text, "flowhost_wal_sync_duration_seconds_bucket{le=\"0.00025\"}") == THREADS * ROUNDS / 2);
  CHECK(series(b.text, "flowhost_wal_sync_duration_seconds_bucket{le=\"0.005\"}") == THREADS * ROUNDS);
  CHECK(series(b.text, "flowhost_actions_per_wal_sync_count") == THREADS * ROUNDS);
  CHECK(series(b.text, "flowhost_actions_per_wal_sync_sum") == THREADS * ROUNDS / 4 * (1 + 2 + 3 + 4));
  CHECK(series(b.text, "flowhost_actions_per_wal_sync_bucket{le=\"2\"}") == THREADS * ROUNDS / 2);
  CHECK(series(b.text, "flowhost_wal_sync_failures_total") == THREADS);
  unsigned long syncs, acts, failed;
  metrics_wal_sync_totals(&syncs, &acts, &failed);
  CHECK(syncs == THREADS * ROUNDS && acts == THREADS * ROUNDS / 4 * 10 && failed == THREADS);
  double per_route = 0;
  for (int i = 0; i < 3; i++) {
    char name[160];
    snprintf(name, sizeof name, "flowhost_http_requests_total{method=\"GET\",route=\"/api/%s\",status=\"200\"}",
             PATTERNS[i]);
    per_route += series(b.text, name);
  }
  CHECK(per_route == THREADS * ROUNDS);
  metrics_buf_free(&b);
  return 0;
}

/* Equal text from another address is the same slot; past the table's
 * size every new route is "other", and methods stay what they were. */
static int test_http_routes(void) {
  char copy[32];
  snprintf(copy, sizeof copy, "%s", "tasks");
  int a = metrics_http_route("GET", "/api/", "tasks");
  CHECK(a == metrics_http_route(METHOD, PREFIX, copy));
  CHECK(a != metrics_http_route("POST", "/api/", "tasks"));
  static char names[METRICS_HTTP_ROUTES + 8][16];
  int last = 0;
  for (int i = 0; i < METRICS_HTTP_ROUTES + 8; i++) {
    snprintf(names[i], sizeof names[i], "r%d", i);
    last = metrics_http_route("GET", NULL, names[i]);
  }
  CHECK(last == METRICS_HTTP_ROUTES);
  metrics_http_request(last, 418, 0.01);   /* an unknown status counts under its class */
  metrics_buf b = {0};
  metrics_render(&b);
  CHECK(series(b.text, "flowhost_http_requests_total{method=\"\",route=\"other\",status=\"4xx\"}") == 1);
  metrics_buf_free(&b);
  return 0;
}

static int test_label_escaping(void) {
  metrics_buf b = {0};
  metrics_buf_label(&b, "a\"b\\c\nd");
  CHECK_STR(b.text, "a\\\"b\\\\c\\nd");
  metrics_buf_free(&b);
  return 0;
}

static int test_query_plans(void) {
  char path[] = "/tmp/flowhost-test-metrics.XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  store *st = NULL;
  fherr err = {0};
  store_options opt = {.synchronous_full = 0};
  CHECK(store_open(path, &opt, &st, &err) == FH_OK);
  store_close(st);
  char plan[1024];
  CHECK(test_plan_of(path, STORE_ACTIVE_COUNTS_SQL, plan, sizeof plan) == 0);
  fprintf(stderr, "  active counts: %s\n", plan);
  CHECK(strstr(plan, "USING COVERING INDEX task_status") != NULL);
  CHECK(strstr(plan, "TEMP B-TREE") == NULL);   /* grouped in index order, no sort */
  CHECK(test_plan_of(path, STORE_DUE_COUNT_SQL, plan, sizeof plan) == 0);
  fprintf(stderr, "  due jobs: %s\n", plan);
  CHECK(strstr(plan, "USING INDEX task_due (due_at<?)") != NULL);   /* the due range only */
  test_remove_db(path);
  return 0;
}

/* An engine (two when e2) on a new database db ("/tmp/flowhost-metrics-<name>-<pid>.db")
 * with the flows of tests/fixtures/stress; 0 on success. */
static int open_stress(const char *name, char db[64], flowreg **reg, engine **e, engine **e2) {
  snprintf(db, 64, "/tmp/flowhost-metrics-%s-%d.db", name, (int)getpid());
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/tests/fixtures/stress", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  *reg = flowreg_new(flows, lua, &err);
  if (!*reg || flowreg_load_all(*reg, &err) != FH_OK) return fprintf(stderr, "flows: %s\n", err.message), 1;
  engine_options eo = {.flows = *reg, .db_path = db, .synchronous_full = 0, .worker_name = "live"};
  if (engine_open(&eo, e, &err) != FH_OK || (e2 && engine_open(&eo, e2, &err) != FH_OK))
    return fprintf(stderr, "engine: %s\n", err.message), 1;
  return 0;
}

/* A job claimed by a worker that died (its lease ran out) is claimed again
 * by a live one: that, and only that, is a lease expiry. */
static int test_job_lease_expiry(void) {
  char db[64];
  flowreg *reg = NULL;
  engine *e = NULL;
  CHECK(open_stress("lease", db, &reg, &e, NULL) == 0);
  fherr err = {0};
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *out = NULL;
  CHECK(engine_start(e, &sys, "jobs", "start", NULL, &out, &err) == FH_OK);   /* two jobs, due now */
  json_decref(out);
  /* a worker claims one job, then dies: its lease is already over */
  store *st = NULL;
  store_options so = {.synchronous_full = 0};
  CHECK(store_open(db, &so, &st, &err) == FH_OK);
  char now[FH_TIME_LEN], gone[FH_TIME_LEN];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() - 10, gone);
  st_task claimed;
  CHECK(store_task_claim_due(st, now, "dead:1", gone, &claimed, &err) == FH_OK);
  st_task_free(&claimed);
  store_close(st);
  metrics_buf b = {0};
  metrics_render(&b);
  double before = series(b.text, "flowhost_job_lease_expiries_total");
  metrics_buf_free(&b);
  int ran = 0;
  CHECK(engine_run_due(e, 0, &ran, &err) == FH_OK);
  CHECK(ran == 2);
  metrics_render(&b);
  CHECK(series(b.text, "flowhost_job_lease_expiries_total") == before + 1);   /* the dead worker's job only */
  metrics_buf_free(&b);
  engine_close(e);
  flowreg_free(reg);
  test_remove_db(db);
  return 0;
}

typedef struct scrape_arg {
  engine *e;
  char *text;
} scrape_arg;

static void *scrape(void *arg) {
  scrape_arg *a = arg;
  metrics_buf b = {0};
  fherr err = {0};
  if (engine_metrics_render(a->e, &b, &err) == FH_OK) a->text = b.text;
  else metrics_buf_free(&b);
  return NULL;
}

/* The database gauges are kept for max-age seconds of the (manual) clock,
 * for every engine on the database, one read serving scrapes at once; with
 * max-age 0 each scrape reads. */
static int test_gauge_cache(void) {
  char db[64];
  flowreg *reg = NULL;
  engine *e = NULL, *e2 = NULL;
  CHECK(open_stress("cache", db, &reg, &e, &e2) == 0);
  fherr err = {0};
  fhtime_set_manual(1900000000.0);
  engine_metrics_set_max_age(5);
  metrics_buf b = {0};
  CHECK(engine_metrics_render(e, &b, &err) == FH_OK && series(b.text, "flowhost_jobs_due") == 0);
  metrics_buf_free(&b);
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *out = NULL;
  CHECK(engine_start(e, &sys, "jobs", "start", NULL, &out, &err) == FH_OK);   /* two jobs, due now */
  json_decref(out);
  /* within the age: what was read before, from either engine */
  CHECK(engine_metrics_render(e2, &b, &err) == FH_OK && series(b.text, "flowhost_jobs_due") == 0);
  metrics_buf_free(&b);
  fhtime_manual_advance(4.9);
  CHECK(engine_metrics_render(e, &b, &err) == FH_OK && series(b.text, "flowhost_jobs_due") == 0);
  metrics_buf_free(&b);
  /* past it: read again, by four scrapes at once, which all answer the same */
  fhtime_manual_advance(0.2);
  pthread_t t[4];
  scrape_arg a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (scrape_arg){.e = i % 2 ? e2 : e};
    CHECK(pthread_create(&t[i], NULL, scrape, &a[i]) == 0);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++) {
    CHECK(a[i].text && series(a[i].text, "flowhost_jobs_due") == 2);
    CHECK(strstr(a[i].text, "flowhost_tasks{flow=\"jobs\""));
    CHECK(!strcmp(a[i].text, a[0].text));
  }
  for (int i = 0; i < 4; i++) free(a[i].text);
  /* max-age 0: every scrape reads */
  engine_metrics_set_max_age(0);
  CHECK(engine_start(e, &sys, "jobs", "start", NULL, &out, &err) == FH_OK);
  json_decref(out);
  CHECK(engine_metrics_render(e, &b, &err) == FH_OK && series(b.text, "flowhost_jobs_due") == 4);
  metrics_buf_free(&b);
  engine_metrics_set_max_age(ENGINE_METRICS_MAX_AGE);
  fhtime_set_manual(0);
  engine_close(e);
  engine_close(e2);
  flowreg_free(reg);
  test_remove_db(db);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {
      {"counters_threads", test_counters_threads},
      {"http_routes", test_http_routes},
      {"label_escaping", test_label_escaping},
      {"query_plans", test_query_plans},
      {"job_lease_expiry", test_job_lease_expiry},
      {"gauge_cache", test_gauge_cache},
      {NULL, NULL},
  };
  return test_main(tests, argc, argv);
}
