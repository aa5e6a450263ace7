/* Read latency of the top-bar counts and the task list pages on a seeded
 * database (bench/counts_bench.sh seeds it with helloworld processes, bob
 * holding 10% of the approve tasks in his inbox and the rest in the queue):
 * `engine_tasks_counts` and `engine_tasks_list` (inbox and queue, 50 rows)
 * as bob, in process, ITER times each, interleaved.  Prints one line per
 * measurement: what, p50 and p99 in ms, and the answer (the counts' JSON or
 * the page's item count), so that the script can check it.
 *
 *   counts_bench DB [ITER]      (flows from $FLOWHOST_SOURCE/flows, default ".")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fhtime.h"
#include "identity.h"

enum { M_COUNTS, M_INBOX, M_QUEUE, M__N };
static const char *const NAMES[M__N] = {"counts", "inbox", "queue"};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One measurement; *answer (first call only) is what the script checks. */
static int measure(engine *e, const fh_actor *bob, int what, double *ms, char **answer) {
  fherr err = {0};
  json_t *out = NULL;
  double t0 = fhtime_monotonic();
  int rc;
  if (what == M_COUNTS) {
    rc = engine_tasks_counts(e, bob, &out, &err);
  } else {
    /* the text the HTTP answer is (engine_tasks_list would read it back into a tree) */
    engine_task_query q = {.view = what == M_INBOX ? "inbox" : "queue", .limit = 50};
    char *text = NULL;
    size_t len = 0;
    rc = engine_tasks_list_text(e, bob, &q, 1, &text, &len, &err);
    t0 -= fhtime_monotonic();   /* the check below is not timed */
    if (!rc) out = json_loadb(text, len, 0, NULL);
    t0 += fhtime_monotonic();
    free(text);
  }
  *ms = (fhtime_monotonic() - t0) * 1000.0;
  if (rc) {
    fprintf(stderr, "%s failed: %s\n", NAMES[what], err.message);
    fherr_clear(&err);
    return 1;
  }
  if (!*answer) {
    if (what == M_COUNTS) {
      *answer = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    } else {
      char buf[32];
      snprintf(buf, sizeof buf, "%zu", json_array_size(json_object_get(out, "items")));
      *answer = strdup(buf);
    }
  }
  json_decref(out);
  return 0;
}

static int open_engine(const char *db, flowreg **reg, engine **e) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  *reg = flowreg_new(flows, lua, &err);
  if (!*reg || flowreg_load_all(*reg, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  engine_options eo = {.flows = *reg, .db_path = db, .synchronous_full = 1};
  if (engine_open(&eo, e, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: counts_bench DB [ITER]\n"), 2;
  int iter = argc > 2 ? atoi(argv[2]) : 200;
  if (iter < 1) iter = 1;
  flowreg *reg;
  engine *e;
  if (open_engine(argv[1], &reg, &e)) return 1;
  fh_actor bob;
  fherr err = {0};
  if (identity_actor(e, "bob", &bob, &err)) return fprintf(stderr, "bob: %s\n", err.message), 1;
  double *ms[M__N];
  char *answer[M__N] = {0};
  int failed = 0;
  for (int w = 0; w < M__N; w++) ms[w] = calloc((size_t)iter, sizeof(double));
  double warm;
  for (int w = 0; w < M__N; w++) failed |= measure(e, &bob, w, &warm, &answer[w]);   /* warm the cache */
  for (int i = 0; i < iter && !failed; i++)
    for (int w = 0; w < M__N; w++) failed |= measure(e, &bob, w, &ms[w][i], &answer[w]);
  for (int w = 0; w < M__N; w++) {
    qsort(ms[w], (size_t)iter, sizeof(double), cmp_double);
    if (!failed)
      printf("%s %.3f %.3f %s\n", NAMES[w], ms[w][iter / 2], ms[w][(iter * 99) / 100],
             answer[w] ? answer[w] : "-");
    free(ms[w]);
    free(answer[w]);
  }
  fh_actor_free(&bob);
  engine_close(e);
  flowreg_free(reg);
  return failed;
}
