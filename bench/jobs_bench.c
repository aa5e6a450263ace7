/* Job throughput: jobs completed per second with 1, 2 and 4 workers for a
 * trivial job, beside the synchronous Handler throughput of the same work
 * measured in the same run.
 *
 *   jobs_bench [N] [--sync normal]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "fhtime.h"
#include "jobs.h"

static const char *DB = "/tmp/flowhost-jobs-bench.db";


static int start_many(engine *e, const char *flow, int n) {
  fh_actor sys;
  fh_actor_system(&sys);
  for (int i = 0; i < n; i++) {
    json_t *out;
    fherr err = {0};
    if (engine_start(e, &sys, flow, "start", NULL, &out, &err)) {
      fprintf(stderr, "start: %s\n", err.message);
      return 1;
    }
    json_decref(out);
  }
  return 0;
}

static int64_t done_count(engine *e) {
  fh_actor sys;
  fh_actor_system(&sys);
  int64_t total = 0, after = 0;
  for (;;) {
    engine_process_query q = {.status = "DONE", .limit = 500, .after = after};
    json_t *out;
    fherr err = {0};
    if (engine_processes_list(e, &sys, &q, &out, &err)) return -1;
    total += (int64_t)json_array_size(json_object_get(out, "items"));
    json_t *next = json_object_get(out, "next_after");
    after = json_is_integer(next) ? json_integer_value(next) : 0;
    json_decref(out);
    if (!after) return total;
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int full = !(argc > 3 && !strcmp(argv[2], "--sync") && !strcmp(argv[3], "normal"));
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/bench/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  flowreg *reg = flowreg_new(flows, lua, &err);
  if (!reg || flowreg_load_all(reg, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  engine_options eo = {.flows = reg, .db_path = DB, .synchronous_full = full};

  printf("jobs_bench: %d processes per run, synchronous=%s\n", n, full ? "FULL" : "NORMAL");
  /* baseline: the same trivial work as a synchronous handler */
  bench_remove_db(DB);
  engine *e;
  if (engine_open(&eo, &e, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  double t0 = fhtime_monotonic();
  if (start_many(e, "trivial_handler", n)) return 1;
  double handler_rate = n / (fhtime_monotonic() - t0);
  engine_close(e);
  printf("  synchronous handler     %8.0f processes/s (start + handler + end, one transaction)\n", handler_rate);

  int counts[] = {1, 2, 4};
  for (int k = 0; k < 3; k++) {
    bench_remove_db(DB);
    if (engine_open(&eo, &e, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    if (start_many(e, "trivial_job", n)) return 1;   /* jobs wait SCHEDULED */
    jobs *pool;
    jobs_options jo = {.flows = reg, .db_path = DB, .synchronous_full = full, .workers = counts[k]};
    t0 = fhtime_monotonic();
    if (jobs_start(&jo, &pool, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    /* poll cheaply: nothing SCHEDULED left means every job has run */
    double due = 0;
    while (!engine_next_due(e, &due, &err) && due >= 0 && fhtime_monotonic() - t0 < 120) usleep(5000);
    double dt = fhtime_monotonic() - t0;
    int64_t done = done_count(e);
    jobs_stop(pool);
    engine_close(e);
    printf("  %d job worker%s          %8.0f jobs/s  (%lld of %d done, %.2f of the handler rate)\n", counts[k],
           counts[k] > 1 ? "s" : " ", done / dt, (long long)done, n, done / dt / handler_rate);
  }
  bench_remove_db(DB);
  flowreg_free(reg);
  return 0;
}
