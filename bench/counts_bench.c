/* Read latency of the top-bar counts and the task list pages on a seeded
 * database (bench/counts_bench.sh seeds it with helloworld processes, bob
 * holding 10% of the approve tasks in his inbox and the rest in the queue):
 * `engine_tasks_counts` and `engine_tasks_list_text` (50 rows: the inbox and
 * the queue, newest and oldest first, by due date, filtered by flow, the
 * queue's second pages; alice's empty queue, her counts and her archive of
 * every start task, newest first and by finished_at), the process list
 * (bob's, alice's, an admin's; filtered by status and flow) and the flows'
 * list with its running counts per version, in process, ITER
 * times each, interleaved, after WARM_ROUNDS rounds of warm-up.  Prints one
 * line per measurement: what, p50 and p99 in ms, the answer (the counts' JSON
 * or the page's item count), the page size expected (-1: counts), so that the
 * script can check it, and the slowest call of the warm-up in ms.
 *
 *   counts_bench DB [ITER]      (flows from $FLOWHOST_SOURCE/flows, default ".")
 *
 * ONLY=name measures that one alone (to profile it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_hosts.h"
#include "engine_internal.h"   /* summary_cache_free, for the cold pages */
#include "engine_versions.h"
#include "fhtime.h"
#include "identity.h"

/* What is measured: the top-bar counts or a list page, as bob or alice,
 * with the sorts and filters a list page offers.  Bob may take the approve
 * tasks, which fill the queue; alice may start helloworld but take none of
 * its tasks, so her queue is empty however many wait for others: a walk of
 * the queue would read them all.  rows: the page's size the script checks
 * (-1: the counts).  second: the page after the first one.  cold: with
 * no process summarised yet, as a page is a minute later, after its
 * processes changed, or on another of the server's threads: on an engine
 * of its own (its own connection and cache), whose summaries' cache is
 * emptied before each call. */
/* who: 0 bob, 1 alice, 2 an admin, 3 carol (manager of helloworld), 4 dave
 * (manager of wcp01_sequence, which has no process).  what: the counts and
 * a task list page (view), a process list page, or the flows' list. */
enum { WHAT_TASKS, WHAT_PROCESSES, WHAT_FLOWS };
typedef struct measure_def {
  const char *name;
  int alice;
  const char *view;   /* NULL: the counts */
  int ascending, by_due, second;   /* second: 1 the page after the first, 2 one deep (after the middle) */
  const char *flow;
  int rows;
  int by_finished;
  int cold;
  int what;
  const char *status;   /* the process list's, or the task list's */
  int dates;            /* a date filter (DATES_*) */
} measure_def;
/* since the newest 900 processes ($SINCE_RECENT), since a time no task has,
 * until the oldest 900 ($UNTIL_OLD); finished since the newest 900, since
 * a time none was: bench/counts_bench.sh's seed creates process i's tasks
 * a second after process i - 1's, and finishes its finished ones then */
enum { DATES_NONE, DATES_RECENT, DATES_NEVER, DATES_OLD, DATES_FINISHED_RECENT, DATES_FINISHED_NEVER };
static const measure_def MEASURES[] = {
    {"counts", 0, NULL, 0, 0, 0, NULL, -1, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox", 0, "inbox", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox_next", 0, "inbox", 0, 0, 1, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox_cold", 0, "inbox", 0, 0, 0, NULL, 50, 0, 1, WHAT_TASKS, NULL, DATES_NONE},
    {"queue", 0, "queue", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"queue_next", 0, "queue", 0, 0, 1, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* a page deep in the list: after the middle of the ids (second = 2) */
    {"queue_deep", 0, "queue", 0, 0, 2, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox_deep", 0, "inbox", 0, 0, 2, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"queue_oldest", 0, "queue", 1, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"queue_due", 0, "queue", 0, 1, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"queue_due_next", 0, "queue", 0, 1, 1, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"queue_flow", 0, "queue", 0, 0, 0, "helloworld", 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox_due", 0, "inbox", 0, 1, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"inbox_flow", 0, "inbox", 0, 0, 0, "helloworld", 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* bob has finished nothing: his archive is empty however many others' are not */
    {"archive", 0, "archive", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_counts", 1, NULL, 0, 0, 0, NULL, -1, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_queue", 1, "queue", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_queue_flow", 1, "queue", 0, 0, 0, "helloworld", 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* alice started every process: her archive holds each start task */
    {"alice_archive", 1, "archive", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_next", 1, "archive", 0, 0, 1, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_deep", 1, "archive", 0, 0, 2, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_fin", 1, "archive", 0, 0, 0, NULL, 50, 1, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_fin_next", 1, "archive", 0, 0, 1, NULL, 50, 1, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* her archive of one flow: of helloworld (every task in it), of a flow
     * she has none of (task_owner_flow; it walked her whole archive) */
    {"alice_archive_flow", 1, "archive", 0, 0, 0, "helloworld", 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_flow_next", 1, "archive", 0, 0, 1, "helloworld", 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"alice_archive_other_flow", 1, "archive", 0, 0, 0, "wcp01_sequence", 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* the process list: bob sees those he has tasks in (10%), alice all
     * (she started them), and none is DONE */
    {"processes", 0, NULL, 0, 0, 0, NULL, 50, 0, 0, WHAT_PROCESSES, NULL, DATES_NONE},
    {"processes_next", 0, NULL, 0, 0, 1, NULL, 50, 0, 0, WHAT_PROCESSES, NULL, DATES_NONE},
    {"processes_flow", 0, NULL, 0, 0, 0, "helloworld", 50, 0, 0, WHAT_PROCESSES, NULL, DATES_NONE},
    {"processes_started", 0, NULL, 0, 0, 0, NULL, 50, 0, 0, WHAT_PROCESSES, "STARTED", DATES_NONE},
    {"processes_done", 0, NULL, 0, 0, 0, NULL, 0, 0, 0, WHAT_PROCESSES, "DONE", DATES_NONE},
    {"alice_processes", 1, NULL, 0, 0, 0, NULL, 50, 0, 0, WHAT_PROCESSES, NULL, DATES_NONE},
    {"admin_processes_started", 2, NULL, 0, 0, 0, NULL, 50, 0, 0, WHAT_PROCESSES, "STARTED", DATES_NONE},
    {"admin_processes_done", 2, NULL, 0, 0, 0, NULL, 0, 0, 0, WHAT_PROCESSES, "DONE", DATES_NONE},
    {"admin_processes_flow_done", 2, NULL, 0, 0, 0, "helloworld", 0, 0, 0, WHAT_PROCESSES, "DONE", DATES_NONE},
    /* a flow with no process at all, alone and with a status bob's own have */
    {"admin_processes_other_flow", 2, NULL, 0, 0, 0, "wcp01_sequence", 0, 0, 0, WHAT_PROCESSES, NULL, DATES_NONE},
    {"processes_other_flow_started", 0, NULL, 0, 0, 0, "wcp01_sequence", 0, 0, 0, WHAT_PROCESSES, "STARTED", DATES_NONE},
    /* GET /api/flows: every flow, each with its running processes per version */
    {"flows", 2, NULL, 0, 0, 0, NULL, -1, 0, 0, WHAT_FLOWS, NULL, DATES_NONE},
    /* all tasks (GET /api/tasks?view=all): an admin's, of a status none
     * has, of a flow with no process; a manager's, and a manager's of a
     * flow with no process */
    {"admin_all", 2, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"admin_all_deep", 2, "all", 0, 0, 2, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    /* bob's inbox of a flow with none of his tasks */
    {"inbox_other_flow", 0, "inbox", 0, 0, 0, "wcp01_sequence", 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"admin_all_canceled", 2, "all", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, "CANCELED", DATES_NONE},
    {"admin_all_other_flow", 2, "all", 0, 0, 0, "wcp01_sequence", 0, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"manager_all", 3, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"manager_all_new", 3, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    /* a status held by a tenth of the tasks, oldest first: read by walking
     * (SQLite counts 10,000 of them in task_status first, once per 10 s;
     * PostgreSQL's plan for the status chooses) */
    {"admin_all_assigned_oldest", 2, "all", 1, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "ASSIGNED", DATES_NONE},
    {"other_manager_all_new", 4, "all", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    /* "mature" (counts_bench.sh's last phase, after most approve tasks were
     * finished: NEW in 1 process of 150, ASSIGNED in 1 of 1,500): the open
     * tasks of a database whose tasks are mostly DONE, as an admin and as
     * carol; measured only with the argument "mature", the others only
     * without it */
    /* with a date filter: the tasks of the range from task_created where
     * it holds few (bob's 90 inbox and 810 queue tasks of the newest 900
     * processes, alice's 900 start tasks; the oldest 900's), none in it;
     * alice's tasks finished in a range, from task_owner_finished */
    {"inbox_since", 0, "inbox", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_RECENT},
    {"queue_since", 0, "queue", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_RECENT},
    {"queue_since_none", 0, "queue", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, NULL, DATES_NEVER},
    {"inbox_until", 0, "inbox", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_OLD},
    {"alice_archive_since", 1, "archive", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_RECENT},
    {"alice_archive_fin_since", 1, "archive", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_FINISHED_RECENT},
    {"alice_archive_fin_none", 1, "archive", 0, 0, 0, NULL, 0, 0, 0, WHAT_TASKS, NULL, DATES_FINISHED_NEVER},
    {"mature_all_new", 2, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    {"mature_all_new_next", 2, "all", 0, 0, 1, NULL, 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    {"mature_all_new_oldest", 2, "all", 1, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    {"mature_all_new_flow", 2, "all", 0, 0, 0, "helloworld", 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    {"mature_all_assigned", 2, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "ASSIGNED", DATES_NONE},
    {"mature_manager_all_new", 3, "all", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, "NEW", DATES_NONE},
    /* bob's counts, inbox and queue where most tasks finished (on
     * PostgreSQL after the hosts' index upkeep: counts_bench.sh) */
    {"mature_counts", 0, NULL, 0, 0, 0, NULL, -1, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_inbox", 0, "inbox", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_inbox_due", 0, "inbox", 0, 1, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_queue", 0, "queue", 0, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_queue_next", 0, "queue", 0, 0, 1, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_queue_oldest", 0, "queue", 1, 0, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_queue_due", 0, "queue", 0, 1, 0, NULL, 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
    {"mature_queue_flow", 0, "queue", 0, 0, 0, "helloworld", 50, 0, 0, WHAT_TASKS, NULL, DATES_NONE},
};
enum { M__N = sizeof MEASURES / sizeof MEASURES[0] };
/* PostgreSQL plans a prepared statement for its values at its first five
 * executions; the sixth may keep a plan for all values. */
#define WARM_ROUNDS 6

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A page's text read back into *out (what the script checks), not timed:
 * t0 moves on by the time it took.  Frees text. */
static void read_back(char *text, size_t len, double *t0, json_t **out) {
  *t0 -= fhtime_monotonic();
  if (text) *out = json_loadb(text, len, 0, NULL);
  *t0 += fhtime_monotonic();
  free(text);
}

/* One list page as the text the HTTP answer is (engine_tasks_list would
 * read it back into a tree); *out: the page parsed, not timed. */
static int list_page(engine *e, const fh_actor *a, const engine_task_query *q, double *t0, json_t **out,
                     fherr *err) {
  char *text = NULL;
  size_t len = 0;
  int rc = engine_tasks_list_text(e, a, q, 1, &text, &len, err);
  read_back(text, len, t0, out);
  return rc;
}

/* One process list page the same way. */
static int process_page(engine *e, const fh_actor *a, const engine_process_query *q, double *t0, json_t **out,
                        fherr *err) {
  char *text = NULL;
  size_t len = 0;
  int rc = engine_processes_list_text(e, a, q, &text, &len, err);
  read_back(text, len, t0, out);
  return rc;
}

/* One measurement; *answer (first call only) is what the script checks;
 * *after: the first page's next_after, for the second page (0: not yet). */
static int measure(engine *e, const fh_actor *who, const measure_def *m, int64_t *after, double *ms,
                   char **answer) {
  fherr err = {0};
  json_t *out = NULL;
  if (m->cold) summary_cache_free(e);   /* e: the cold measures' own engine */
  double t0 = fhtime_monotonic();
  int rc;
  engine_process_query pq = {.flow = m->flow, .status = m->status, .limit = 50, .after = m->second ? *after : 0};
  if (m->what == WHAT_FLOWS) {
    rc = engine_flows_list(e, who, &out, &err);   /* as GET /api/flows (http_route.c) */
    if (!rc) engine_versions_decorate_flows(e, out);
    if (!rc) engine_hosts_decorate_flows(e, who, out);
  } else if (m->what == WHAT_PROCESSES) {
    rc = process_page(e, who, &pq, &t0, &out, &err);
  } else if (!m->view) {
    rc = engine_tasks_counts(e, who, &out, &err);
  } else {
    engine_task_query q = {.view = m->view, .limit = 50, .ascending = m->ascending, .by_due = m->by_due,
                           .by_finished = m->by_finished, .flow = m->flow, .after = m->second ? *after : 0,
                           .status = m->status};
    if (m->dates == DATES_RECENT) q.since = getenv("SINCE_RECENT");
    if (m->dates == DATES_NEVER) q.since = "2099-01-01T00:00:00.000Z";
    if (m->dates == DATES_OLD) q.until = getenv("UNTIL_OLD");
    if (m->dates == DATES_FINISHED_RECENT) q.finished_since = getenv("SINCE_RECENT");
    if (m->dates == DATES_FINISHED_NEVER) q.finished_since = "2099-01-01T00:00:00.000Z";
    rc = list_page(e, who, &q, &t0, &out, &err);
  }
  *ms = (fhtime_monotonic() - t0) * 1000.0;
  if (rc) {
    fprintf(stderr, "%s failed: %s\n", m->name, err.message);
    fherr_clear(&err);
    return 1;
  }
  if (m->second && !*after && m->what == WHAT_PROCESSES) {   /* the warm-up: where the second page starts */
    pq.after = 0;
    json_t *first = NULL;
    if (engine_processes_list(e, who, &pq, &first, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    *after = json_integer_value(json_object_get(first, "next_after"));
    json_decref(first);
    if (!*after) return fprintf(stderr, "%s: the first page has no next page\n", m->name), 1;
  } else if (m->second && !*after) {   /* the warm-up: learn where the second page starts */
    json_t *first = NULL;
    engine_task_query q = {.view = m->view, .limit = 50, .ascending = m->ascending, .by_due = m->by_due,
                           .by_finished = m->by_finished, .flow = m->flow};
    double ignored = 0;
    if (list_page(e, who, &q, &ignored, &first, &err)) return fprintf(stderr, "%s\n", err.message), 1;
    *after = json_integer_value(json_object_get(first, "next_after"));
    json_decref(first);
    if (!*after) return fprintf(stderr, "%s: the first page has no next page\n", m->name), 1;
    if (m->second == 2) *after /= 2;   /* deep: the page after the middle of the ids */
  }
  if (!*answer) {
    if (m->what == WHAT_FLOWS) {
      /* every flow, and helloworld's running processes (capped) */
      json_t *items = json_object_get(out, "items"), *hello = NULL, *it;
      size_t i;
      json_array_foreach(items, i, it) if (!strcmp(json_string_value(json_object_get(it, "name")), "helloworld")) hello = it;
      json_t *v = json_array_get(json_object_get(hello, "versions"), 0);
      char buf[96];
      snprintf(buf, sizeof buf, "{\"flows\":%zu,\"helloworld_running\":%lld%s}", json_array_size(items),
               (long long)json_integer_value(json_object_get(v, "running")),
               json_is_true(json_object_get(v, "running_capped")) ? ",\"capped\":true" : "");
      *answer = strdup(buf);
    } else if (m->what == WHAT_TASKS && !m->view) {
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
  if (argc < 2) return fprintf(stderr, "usage: counts_bench DB [ITER [mature]]\n"), 2;
  int iter = argc > 2 ? atoi(argv[2]) : 200;
  int mature = argc > 3 && !strcmp(argv[3], "mature");
  if (iter < 1) iter = 1;
  flowreg *reg;
  engine *e, *cold = NULL;
  if (open_engine(argv[1], &reg, &e)) return 1;
  fh_actor users[5];
  fherr err = {0};
  if (identity_actor(e, "bob", &users[0], &err)) return fprintf(stderr, "bob: %s\n", err.message), 1;
  if (identity_actor(e, "alice", &users[1], &err)) return fprintf(stderr, "alice: %s\n", err.message), 1;
  if (identity_actor(e, "carol", &users[3], &err)) return fprintf(stderr, "carol: %s\n", err.message), 1;
  if (identity_actor(e, "dave", &users[4], &err)) return fprintf(stderr, "dave: %s\n", err.message), 1;
  users[2] = (fh_actor){.id = users[1].id, .is_admin = 1, .is_active = 1};   /* an admin (alice's id, unused) */
  snprintf(users[2].username, sizeof users[2].username, "admin");
  double *ms[M__N];
  char *answer[M__N] = {0};
  int64_t after[M__N] = {0};
  int failed = 0;
  for (int w = 0; w < M__N; w++) ms[w] = calloc((size_t)iter, sizeof(double));
  const char *only = getenv("ONLY");
  int skip[M__N] = {0};
  for (int w = 0; w < M__N; w++)
    skip[w] = (only && strcmp(only, MEASURES[w].name) != 0) || (strncmp(MEASURES[w].name, "mature_", 7) == 0) != mature;
  for (int w = 0; w < M__N; w++)
    if (MEASURES[w].dates && !skip[w] && (!getenv("SINCE_RECENT") || !getenv("UNTIL_OLD")))
      return fprintf(stderr, "%s: SINCE_RECENT and UNTIL_OLD are its bounds (bench/counts_bench.sh)\n", MEASURES[w].name), 2;
  int any_cold = 0;   /* the cold measures' engine, only when one is measured */
  for (int w = 0; w < M__N; w++) any_cold |= MEASURES[w].cold && !skip[w];
  engine_options eo = {.flows = reg, .db_path = argv[1], .synchronous_full = 1};
  if (any_cold && engine_open(&eo, &cold, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  /* The warm-up: the summaries' cache, and PostgreSQL's plans.  A prepared
   * statement is planned for its values at each of its first five executions
   * on a connection, then for all values when that costs no more: 2-36 ms of
   * planning each at 1,000,000 processes, once per statement and connection
   * (a server's connections live as long as it does).  The figures are the
   * pages after it; its slowest call is printed apart ("warm-up"). */
  double warm, warm_max[M__N] = {0};
  for (int round = 0; round < WARM_ROUNDS; round++)
    for (int w = 0; w < M__N && !failed; w++)
      if (!skip[w]) {
        failed |= measure(MEASURES[w].cold ? cold : e, &users[MEASURES[w].alice], &MEASURES[w], &after[w], &warm,
                          &answer[w]);
        if (warm > warm_max[w]) warm_max[w] = warm;
      }
  for (int i = 0; i < iter && !failed; i++)
    for (int w = 0; w < M__N && !failed; w++)
      if (!skip[w])
        failed |= measure(MEASURES[w].cold ? cold : e, &users[MEASURES[w].alice], &MEASURES[w], &after[w], &ms[w][i],
                          &answer[w]);
  for (int w = 0; w < M__N; w++) {
    qsort(ms[w], (size_t)iter, sizeof(double), cmp_double);
    if (!failed && !skip[w])
      printf("%s %.3f %.3f %s %d %.3f\n", MEASURES[w].name, ms[w][iter / 2], ms[w][(iter * 99) / 100],
             answer[w] ? answer[w] : "-", MEASURES[w].rows, warm_max[w]);
    free(ms[w]);
    free(answer[w]);
  }
  fh_actor_free(&users[0]);
  fh_actor_free(&users[1]);
  fh_actor_free(&users[3]);
  fh_actor_free(&users[4]);
  if (cold) engine_close(cold);
  engine_close(e);
  flowreg_free(reg);
  return failed;
}
