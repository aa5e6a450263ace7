/* The JSON views of engine_view.c (view_task_json, view_process_json), built
 * member by member, against the json_pack calls they replaced (kept here as
 * the reference): the same bytes for every task and process shape, and NULL
 * where json_pack gave NULL (a string that is not UTF-8); the cache of
 * the list rows' process summaries (engine_summary.c); and a request's
 * snapshot (engine_read_begin), across a flow reload. */
#include <sys/stat.h>

#include "engine_internal.h"
#include "identity.h"
#include "test.h"
#include "test_fixture_engine.h"

/* --- the reference: the views as json_pack calls ---------------------------------- */

static json_t *ref_process_json(engine *e, const st_process *p) {
  json_t *data = parse_json_text(p->data);
  char *summary = view_summary(e, p, data);
  json_t *out = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "id", (json_int_t)p->id, "flow", p->flow,
                          "status", proc_status_name(p->status), "summary", summary ? summary : "", "data", data, "created_by",
                          p->created_by_name[0] ? json_string(p->created_by_name) : json_null(), "created_at",
                          p->created_at, "finished_at", time_or_null(p->finished_at));
  free(summary);
  if (p->parent_id)
    json_object_set_new(out, "parent", json_pack("{s:I, s:I}", "process_id", (json_int_t)p->parent_id, "task_id",
                                                 (json_int_t)p->parent_task_id));
  return out;
}


static json_t *ref_task_json(engine *e, const st_task *t) {
  const char *flow_end = strchr(t->flow_task, '.');
  char flow[64];
  snprintf(flow, sizeof flow, "%.*s", flow_end ? (int)(flow_end - t->flow_task) : 0, t->flow_task);
  const flowdef *current;
  const fd_node *n = view_task_node(e, t, flow, &current);
  int is_timeout = !strcmp(t->type, "timeout");
  json_t *prev = json_array();
  for (const char *p = t->previous; p && *p;) {   /* "3,4" from the task row */
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    json_array_append_new(prev, json_integer(id));
    p = *end == ',' ? end + 1 : end;
  }
  json_t *out = json_pack(
      "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)t->id,
      "process_id", (json_int_t)t->process_id, "flow", flow, "node", node_part(t->flow_task), "type",
      /* a timer row and a group's controller are rows of their node, of their own type */
      is_timeout || !strcmp(t->type, "foreach") ? t->type : n ? node_kind_name(n->kind) : "obsolete", "title",
      n ? n->title : node_part(t->flow_task), "status", task_status_name(t->status),
      "owner", t->owner_name[0] ? json_string(t->owner_name) : json_null(), "token", t->token, "previous", prev,
      "data", parse_json_text(t->data), "created_at", t->created_at, "assigned_at", time_or_null(t->assigned_at),
      "started_at", time_or_null(t->started_at), "finished_at", time_or_null(t->finished_at));
  if (t->error_message)
    json_object_set_new(out, "error", json_pack("{s:s, s:s?}", "message", t->error_message, "traceback",
                                                t->error_traceback));
  /* a job's or timer's run time while it waits; a :Due date always */
  if (t->due_at[0] && (t->status == TASK_SCHEDULED || (n && n->has_due && !is_timeout)))
    json_object_set_new(out, "due_at", json_string(t->due_at));
  if (is_timeout) {
    int index = atoi(t->event_key) - 1;
    int interrupting = n && index >= 0 && index < n->ntimeouts ? n->timeouts[index].interrupting : 1;
    json_object_set_new(out, "timeout", json_pack("{s:I, s:s, s:b}", "guards", (json_int_t)t->guards, "node",
                                                  t->event_name, "interrupting", interrupting));
  } else if (!strcmp(t->type, "receive") && t->event_name[0]) {
    json_object_set_new(out, "waits_for",
                        t->event_key[0] ? json_pack("{s:s, s:s}", "message", t->event_name, "key", t->event_key)
                                        : json_pack("{s:s}", "signal", t->event_name));
  }
  if (t->attempts) json_object_set_new(out, "attempts", json_integer(t->attempts));
  if (!strcmp(t->type, "external")) json_object_set_new(out, "external", view_external_json(t));
  if (n && n->priority && !is_timeout) json_object_set_new(out, "priority", json_string(node_priority_name(n->priority)));
  if (t->child_id) json_object_set_new(out, "child_id", json_integer(t->child_id));
  if (t->group_id) json_object_set_new(out, "group_id", json_integer(t->group_id));
  return out;
}

/* --- the comparison ---------------------------------------------------------------- */

/* Both dumps equal, or both views NULL; consumes both. */
static int same_json(json_t *got, json_t *want, const char *what) {
  char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
  char *w = want ? json_dumps(want, JSON_COMPACT) : NULL;
  int same = (!g && !w) || (g && w && !strcmp(g, w));
  if (!same) fprintf(stderr, "  %s:\n    new       %s\n    json_pack %s\n", what, g ? g : "(null)", w ? w : "(null)");
  free(g);
  free(w);
  json_decref(got);
  json_decref(want);
  return same;
}

static st_task base_task(const char *flow_task, const char *type, task_status status) {
  st_task t = {.id = 41, .process_id = 7, .status = status};
  snprintf(t.flow_task, sizeof t.flow_task, "%s", flow_task);
  snprintf(t.type, sizeof t.type, "%s", type);
  snprintf(t.token, sizeof t.token, "start/1");
  snprintf(t.created_at, sizeof t.created_at, "2026-12-03T10:00:00.000Z");
  t.data = "{\"amount\":12,\"note\":\"a \\\"b\\\"\"}";
  return t;
}

#define SET(field, text) snprintf(rows[n - 1].field, sizeof rows[0].field, "%s", text)

/* Rows of every shape: human, timer, receive (message and signal),
 * external, failed job, a node gone, an unknown flow, no dot, a group's
 * controller, odd stored data, and strings that are not UTF-8. */
static int task_shapes(st_task *rows) {
  int n = 0;
  rows[n++] = base_task("events.approve", "view", TASK_ASSIGNED);
  SET(owner_name, "bob");
  SET(assigned_at, "2026-12-03T10:01:00.000Z");
  SET(due_at, "2026-12-04T10:00:00.000Z");
  rows[n - 1].previous = "3,4";
  rows[n++] = base_task("events.approve", "timeout", TASK_SCHEDULED);
  SET(event_key, "1");
  SET(event_name, "remind");
  SET(due_at, "2026-12-03T11:00:00.000Z");
  rows[n - 1].guards = 40;
  rows[n++] = base_task("events.wait_payment", "receive", TASK_STARTED);
  SET(event_name, "payment");
  SET(event_key, "order-\xc3\xa9");
  rows[n++] = base_task("events.wait_bell", "receive", TASK_STARTED);
  SET(event_name, "bell");
  rows[n++] = base_task("external.render", "external", TASK_SCHEDULED);
  SET(event_name, "pdf");
  SET(lease_owner, "worker-1");
  SET(lease_until, "2026-12-03T10:05:00.000Z");
  rows[n - 1].attempts = 2;
  rows[n++] = base_task("events.slow_job", "job", TASK_ERROR);
  rows[n - 1].error_message = "boom: \"quoted\"\n\x01";
  rows[n - 1].error_traceback = "stack traceback:\n\t[C]: in ?";
  rows[n - 1].attempts = 5;
  SET(started_at, "2026-12-03T10:00:01.000Z");
  rows[n++] = base_task("events.gone_node", "view", TASK_DONE);
  SET(finished_at, "2026-12-03T12:00:00.000Z");
  rows[n - 1].error_message = "no traceback";
  rows[n++] = base_task("nosuchflow.step", "view", TASK_CANCELED);
  rows[n - 1].data = "{ \"spaced\": 1.25 }";
  rows[n++] = base_task("nodot", "view", TASK_NEW);
  rows[n - 1].data = NULL;
  rows[n++] = base_task("events.approve", "foreach", TASK_STARTED);
  rows[n - 1].child_id = 99;
  rows[n - 1].group_id = 98;
  rows[n - 1].data = "[1]";
  rows[n - 1].previous = "12,x";
  rows[n++] = base_task("events.approve", "view", TASK_ASSIGNED);
  SET(owner_name, "b\xffob");   /* not UTF-8: json_pack gave NULL */
  rows[n++] = base_task("events.approve", "view", TASK_NEW);
  SET(token, "start/\xc3");
  rows[n++] = base_task("events.appr\xe9ve", "view", TASK_NEW);
  rows[n++] = base_task("a_flow_name_longer_than_the_63_bytes_a_view_keeps_of_it_xxxxxxxxxxxxxxxx.step", "view",
                        TASK_NEW);   /* cut to 63 bytes */
  rows[n++] = base_task("steps.start", "start", TASK_DONE);
  rows[n - 1].data = "not json";
  SET(finished_at, "2026-12-03T10:00:00.002Z");
  return n;
}

static int test_tasks(void) {
  char dir[64] = "/tmp/flowhost-views-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  int ok = e != NULL;
  st_task rows[20];
  int n = ok ? task_shapes(rows) : 0;
  for (int i = 0; i < n && ok; i++) {
    char what[256];
    snprintf(what, sizeof what, "task %d %s (%s)", i, rows[i].flow_task, rows[i].type);
    ok = same_json(view_task_json(e, &rows[i]), ref_task_json(e, &rows[i]), what);
  }
  close_fixture_engine(e, reg, dir);
  CHECK(ok);
  return 0;
}

static int test_processes(void) {
  char dir[64] = "/tmp/flowhost-views-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  int ok = e != NULL;
  st_process ps[6] = {{.id = 5, .status = PROC_STARTED}};
  for (int i = 0; i < 6; i++) {
    ps[i] = ps[0];
    snprintf(ps[i].flow, sizeof ps[i].flow, "steps");
    snprintf(ps[i].created_at, sizeof ps[i].created_at, "2026-12-03T10:00:00.000Z");
    ps[i].data = "{\"n\":2,\"s\":\"caf\\u00e9\",\"l\":[1,2.5,null,true]}";
  }
  snprintf(ps[1].created_by_name, sizeof ps[1].created_by_name, "bob");
  snprintf(ps[1].finished_at, sizeof ps[1].finished_at, "2026-12-03T10:00:01.000Z");
  ps[1].status = PROC_DONE;
  ps[2].parent_id = 3;
  ps[2].parent_task_id = 9;
  ps[2].data = NULL;
  snprintf(ps[3].flow, sizeof ps[3].flow, "nosuchflow");
  ps[3].data = "[1]";
  snprintf(ps[4].created_by_name, sizeof ps[4].created_by_name, "\xc3(");   /* not UTF-8 */
  snprintf(ps[5].flow, sizeof ps[5].flow, "st\xffps");
  ps[5].parent_id = 1;
  for (int i = 0; i < 6 && ok; i++) {
    char what[64];
    snprintf(what, sizeof what, "process %d", i);
    ok = same_json(view_process_json(e, &ps[i]), ref_process_json(e, &ps[i]), what);
  }
  close_fixture_engine(e, reg, dir);
  CHECK(ok);
  return 0;
}

/* Processes whose ids share a set of the summary cache (1,024 sets of 4:
 * ids 2,048 apart share one) stay cached side by side; a fifth evicts the
 * one least recently used, a new version replaces its process's entry, and
 * a version not cached is a miss. */
static int test_summary_cache(void) {
  char dir[64] = "/tmp/flowhost-views-XXXXXX";
  CHECK(mkdtemp(dir));
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  int ok = e != NULL;
  const int64_t ids[5] = {7, 7 + 2048, 7 + 4096, 7 + 6144, 7 + 8192};
  const char *texts[5] = {"first", "second", "third", "fourth", "fifth"};
  for (int i = 0; ok && i < 4; i++) summary_cache_put(e, ids[i], 1, texts[i]);
  for (int i = 0; ok && i < 4; i++) {
    const char *got = summary_cache_get(e, ids[i], 1);
    ok = got && !strcmp(got, texts[i]);
    if (!ok) fprintf(stderr, "  process %lld: %s\n", (long long)ids[i], got ? got : "(missed)");
  }
  /* the first used again: the second is now the least recently used */
  ok = ok && summary_cache_get(e, ids[0], 1) && !summary_cache_get(e, ids[0], 2);
  if (ok) summary_cache_put(e, ids[4], 1, texts[4]);
  ok = ok && !summary_cache_get(e, ids[1], 1);
  for (int i = 0; ok && i < 5; i++)
    if (i != 1) ok = summary_cache_get(e, ids[i], 1) && !strcmp(summary_cache_get(e, ids[i], 1), texts[i]);
  /* a new version in the same entry: the others stay */
  if (ok) summary_cache_put(e, ids[2], 2, "third, again");
  ok = ok && !summary_cache_get(e, ids[2], 1) && !strcmp(summary_cache_get(e, ids[2], 2), "third, again");
  ok = ok && summary_cache_get(e, ids[0], 1) && summary_cache_get(e, ids[3], 1) && summary_cache_get(e, ids[4], 1);
  close_fixture_engine(e, reg, dir);
  CHECK(ok);
  return 0;
}

/* Whether user name is there, read through e. */
static int user_seen(engine *e, const char *name) {
  fh_actor a;
  fherr err = {0};
  int rc = identity_actor(e, name, &a, &err);
  if (!rc) fh_actor_free(&a);
  fherr_clear(&err);
  return rc == FH_OK;
}

/* busy of a TRUNCATE checkpoint by another connection: 1 while a reader
 * holds a snapshot the WAL must outlive. */
static int checkpoint_busy(sqlite3 *raw) { return (int)test_sql_int(raw, "PRAGMA wal_checkpoint(TRUNCATE)", -1); }

/* A request's reads from one snapshot: what another program writes
 * meanwhile shows after it ends; a flow reload met inside ends it and
 * begins a new one (its versions are written and read back); nested
 * begins are the outer one's; nothing is left open after. */
static int test_read_snapshot(void) {
  char dir[64] = "/tmp/flowhost-views-XXXXXX", db[128];
  CHECK(mkdtemp(dir));
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  CHECK(e);
  snprintf(db, sizeof db, "%s/db", dir);
  fherr err = {0};
  int ok = identity_user_add(e, "ann", "a long password", 0, &err) == FH_OK;
  sqlite3 *raw = NULL;
  ok = ok && sqlite3_open(db, &raw) == SQLITE_OK;
  int began = 0, inner = 1;
  ok = ok && engine_read_begin(e, &began, &err) == FH_OK && began && user_seen(e, "ann");
  ok = ok && engine_read_begin(e, &inner, &err) == FH_OK && !inner;   /* inside: nothing begun */
  engine_read_end(e, inner);
  ok = ok && sqlite3_exec(raw, "INSERT INTO user(username, created_at) VALUES ('bea', 'x')", NULL, NULL, NULL) == SQLITE_OK;
  ok = ok && !user_seen(e, "bea") && checkpoint_busy(raw) == 1;
  /* a reload inside: a new snapshot, which shows bea */
  ok = ok && flowreg_load_all(reg, &err) == FH_OK && engine_sync_flows(e, &err) == FH_OK;
  ok = ok && user_seen(e, "bea");
  ok = ok && sqlite3_exec(raw, "INSERT INTO user(username, created_at) VALUES ('cid', 'x')", NULL, NULL, NULL) == SQLITE_OK;
  ok = ok && !user_seen(e, "cid");
  engine_read_end(e, began);
  ok = ok && user_seen(e, "cid") && checkpoint_busy(raw) == 0;
  if (!ok) fprintf(stderr, "  %s\n", err.message);
  sqlite3_close(raw);
  close_fixture_engine(e, reg, dir);
  CHECK(ok);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {{"tasks", test_tasks},
                                    {"processes", test_processes},
                                    {"summary_cache", test_summary_cache},
                                    {"read_snapshot", test_read_snapshot},
                                    {NULL, NULL}};
  return test_main(tests, argc, argv);
}
