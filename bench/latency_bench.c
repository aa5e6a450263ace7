/* Start latency while a handler computes: the latency of engine_start of
 * the quick flow (StartFunction -> Handler -> End) on one engine, in two
 * phases interleaved in rounds (A/B, so drift of the shared machine hits
 * both alike):
 *   (a) baseline: nothing else running;
 *   (b) beside a second engine (its own thread, same database file, so the
 *       host's shared writer) that keeps starting busy_handler processes,
 *       whose Handler burns 0.8 s of CPU in Lua.
 * Between quick starts the main thread pauses 0-10 ms (the same
 * pseudo-random sequence in both phases), so the starts land anywhere in a
 * busy handler.  Every start must succeed (a process id, status DONE), the
 * busy ones included, else the exit status is 1.
 *
 *   latency_bench [N] [--sync normal]     N starts per phase, default 200
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "fhtime.h"

#define ROUND 10           /* starts per phase before switching */
#define BUSY_SECONDS 0.8

typedef struct load {
  flowreg *reg;
  const char *db;
  int full;
  int on;                  /* atomic: keep starting busy processes */
  int quit;                /* atomic */
  int running;             /* atomic: a busy start is under way */
  long begun;              /* atomic: busy starts begun */
  long done, failed;       /* busy starts DONE / not */
  double busiest;          /* longest busy start, seconds */
} load;

/* Checks a start's answer: a process id and the status DONE. */
static int start_ok(int rc, json_t *out, fherr *err, const char *what) {
  if (rc) {
    fprintf(stderr, "latency_bench: %s start failed: %s\n", what, err->message);
    fherr_clear(err);
    return 0;
  }
  json_t *proc = json_object_get(out, "process");
  const char *status = json_string_value(json_object_get(proc, "status"));
  if (json_integer_value(json_object_get(proc, "id")) <= 0 || !status || strcmp(status, "DONE")) {
    fprintf(stderr, "latency_bench: %s start returned process %lld in status %s\n", what,
            (long long)json_integer_value(json_object_get(proc, "id")), status ? status : "(none)");
    return 0;
  }
  return 1;
}

static void *busy_loop(void *p) {
  load *l = p;
  engine *e;
  fherr err = {0};
  engine_options eo = {.flows = l->reg, .db_path = l->db, .synchronous_full = l->full, .worker_name = "busy"};
  if (engine_open(&eo, &e, &err)) {
    fprintf(stderr, "latency_bench: busy engine: %s\n", err.message);
    l->failed++;
    __atomic_store_n(&l->quit, 1, __ATOMIC_SEQ_CST);
    return NULL;
  }
  fh_actor sys;
  fh_actor_system(&sys);
  json_t *data = json_pack("{s:f}", "seconds", BUSY_SECONDS);
  while (!__atomic_load_n(&l->quit, __ATOMIC_SEQ_CST)) {
    if (!__atomic_load_n(&l->on, __ATOMIC_SEQ_CST)) {
      usleep(1000);
      continue;
    }
    __atomic_store_n(&l->running, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&l->begun, 1, __ATOMIC_SEQ_CST);
    json_t *out = NULL;
    double t0 = fhtime_monotonic();
    int rc = engine_start(e, &sys, "busy_handler", "start", data, &out, &err);
    double dt = fhtime_monotonic() - t0;
    if (start_ok(rc, out, &err, "busy_handler")) l->done++;
    else l->failed++;
    if (dt > l->busiest) l->busiest = dt;
    json_decref(out);
    __atomic_store_n(&l->running, 0, __ATOMIC_SEQ_CST);
  }
  json_decref(data);
  engine_close(e);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, int n, double p) {
  int k = (int)(p / 100.0 * n + 0.999999) - 1;
  if (k < 0) k = 0;
  if (k >= n) k = n - 1;
  return v[k];
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  if (n <= 0) n = 200;
  int full = !(argc > 3 && !strcmp(argv[2], "--sync") && !strcmp(argv[3], "normal"));
  char db[64];   /* per run: two runs at once must not share a file */
  snprintf(db, sizeof db, "/tmp/flowhost-latency-bench-%d.db", (int)getpid());
  flowreg *reg;
  engine *e;
  if (bench_open(db, full, &reg, &e)) return 1;
  fherr err = {0};
  fh_actor sys;
  fh_actor_system(&sys);

  load l = {.reg = reg, .db = db, .full = full};
  pthread_t busy;
  if (pthread_create(&busy, NULL, busy_loop, &l)) return fprintf(stderr, "latency_bench: no thread\n"), 1;

  double *lat[2] = {malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  int count[2] = {0, 0}, bad = 0;
  unsigned seed[2] = {12345, 12345};   /* the same pauses in both phases */
  double t_start = fhtime_monotonic();
  for (int round = 0; count[0] < n || count[1] < n; round++) {
    int phase = round % 2;
    if (count[phase] >= n) continue;
    if (phase == 1) {   /* wait until a busy start is under way */
      long before = __atomic_load_n(&l.begun, __ATOMIC_SEQ_CST);
      __atomic_store_n(&l.on, 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&l.begun, __ATOMIC_SEQ_CST) == before && !__atomic_load_n(&l.quit, __ATOMIC_SEQ_CST))
        usleep(200);
      usleep(5000);     /* and inside its handler */
    }
    for (int i = 0; i < ROUND && count[phase] < n; i++) {
      usleep(rand_r(&seed[phase]) % 10000);
      json_t *out = NULL, *data = json_pack("{s:i}", "n", i);
      double t0 = fhtime_monotonic();
      int rc = engine_start(e, &sys, "quick", "start", data, &out, &err);
      double dt = fhtime_monotonic() - t0;
      json_decref(data);
      if (!start_ok(rc, out, &err, "quick")) bad++;
      else if (json_integer_value(json_object_get(json_object_get(json_object_get(out, "process"), "data"), "n")) !=
               2 * i) {
        fprintf(stderr, "latency_bench: quick process data is wrong\n");
        bad++;
      }
      json_decref(out);
      lat[phase][count[phase]++] = dt;
    }
    if (phase == 1) {   /* the baseline runs with nothing else under way */
      __atomic_store_n(&l.on, 0, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&l.running, __ATOMIC_SEQ_CST)) usleep(1000);
    }
  }
  double wall = fhtime_monotonic() - t_start;
  __atomic_store_n(&l.quit, 1, __ATOMIC_SEQ_CST);
  pthread_join(busy, NULL);
  engine_close(e);
  flowreg_free(reg);
  bench_remove_db(db);

  double p[2][4];
  for (int ph = 0; ph < 2; ph++) {
    qsort(lat[ph], n, sizeof(double), cmp_double);
    p[ph][0] = pct(lat[ph], n, 50);
    p[ph][1] = pct(lat[ph], n, 90);
    p[ph][2] = pct(lat[ph], n, 99);
    p[ph][3] = lat[ph][n - 1];
    free(lat[ph]);
  }
  printf("latency_bench: %d starts of quick (StartFunction -> Handler -> End) per phase, rounds of %d "
         "interleaved, synchronous=%s, %.1f s\n",
         n, ROUND, full ? "FULL" : "NORMAL", wall);
  printf("  %-44s %9s %9s %9s %9s\n", "start latency, ms", "p50", "p90", "p99", "max");
  printf("  %-44s %9.2f %9.2f %9.2f %9.2f\n", "(a) nothing else running", p[0][0] * 1e3, p[0][1] * 1e3,
         p[0][2] * 1e3, p[0][3] * 1e3);
  char label[64];
  snprintf(label, sizeof label, "(b) beside handlers burning %.1f s of CPU", BUSY_SECONDS);
  printf("  %-44s %9.2f %9.2f %9.2f %9.2f\n", label, p[1][0] * 1e3, p[1][1] * 1e3, p[1][2] * 1e3,
         p[1][3] * 1e3);
  printf("  %-44s %9.1f %9.1f %9.1f %9.1f\n", "ratio (b)/(a)", p[1][0] / p[0][0], p[1][1] / p[0][1],
         p[1][2] / p[0][2], p[1][3] / p[0][3]);
  printf("  busy_handler processes DONE during (b)      %ld (longest start %.2f s)\n", l.done, l.busiest);
  printf("  failed starts                               %d quick, %ld busy_handler\n", bad, l.failed);
  return bad || l.failed ? 1 : 0;
}
