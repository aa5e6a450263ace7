/* jsonw, the streaming JSON writer, against jansson: every check compares
 * bytes with what json_dumps(JSON_COMPACT) prints for the same value, since
 * the task lists (engine_list.c) must answer exactly what they answered as
 * jansson trees.  Strings (every ASCII byte, UTF-8, invalid UTF-8),
 * integers, structure, stored JSON texts (canonical ones copied, the others
 * re-read), task rows of every shape against view_task_json(), and process
 * rows (the process list, engine_proclist.c) against view_process_json(). */
#include <stdint.h>
#include <sys/stat.h>

#include "engine_admin.h"
#include "engine_internal.h"
#include "jsonw.h"
#include "test.h"
#include "test_fixture_engine.h"

/* The writer's text, checked against the dump of expected (consumed). */
static int same_as(jsonw *w, json_t *expected, const char *what) {
  char *got = jw_take(w, NULL);
  char *want = json_dumps(expected, JSON_COMPACT | JSON_ENCODE_ANY);
  int same = got && want && !strcmp(got, want);
  if (!same) fprintf(stderr, "  %s:\n    jsonw   %s\n    jansson %s\n", what, got ? got : "(null)", want ? want : "(null)");
  free(got);
  free(want);
  json_decref(expected);
  return same;
}

static int test_strings(void) {
  char s[3] = "";
  for (int c = 1; c < 256; c++) {   /* every byte alone (those above 0x7f are invalid UTF-8 alone) */
    s[0] = (char)c;
    jsonw w;
    jw_init(&w);
    jw_array(&w);
    jw_string(&w, s);
    jw_array_end(&w);
    json_t *want = json_array();
    json_t *js = json_string(s);
    json_array_append_new(want, js ? js : json_null());
    CHECK(same_as(&w, want, "one byte"));
  }
  /* every byte at every place of an 8-byte word and across two: the
   * writer tests plain runs eight bytes at a time */
  char line[20];
  for (int c = 1; c < 256; c++) {
    for (int at = 0; at < 19; at++) {
      memset(line, 'a', sizeof line - 1);
      line[sizeof line - 1] = '\0';
      line[at] = (char)c;
      if (c == 0xC3 && at < 18) line[at + 1] = (char)0xA9;   /* and a valid two-byte sequence */
      jsonw w;
      jw_init(&w);
      jw_string(&w, line);
      json_t *js = json_string(line);
      CHECK(same_as(&w, js ? js : json_null(), "a byte in a line"));
    }
  }
  static const char *const texts[] = {
      "", "plain", "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f", "\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x80\xa8 \xef\xbb\xbf",
      "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "ok \xff bad", NULL};
  for (int i = 0; texts[i]; i++) {
    jsonw w;
    jw_init(&w);
    jw_object(&w);
    jw_key(&w, "k");
    jw_string(&w, texts[i]);
    jw_object_end(&w);
    json_t *js = json_string(texts[i]);
    CHECK(same_as(&w, json_pack("{s:o}", "k", js ? js : json_null()), texts[i]));
  }
  return 0;
}

static int test_structure(void) {
  jsonw w;
  jw_init(&w);
  jw_object(&w);
  jw_key(&w, "ints");
  jw_array(&w);
  int64_t ints[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN};
  json_t *want_ints = json_array();
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    jw_int(&w, ints[i]);
    json_array_append_new(want_ints, json_integer(ints[i]));
  }
  jw_array_end(&w);
  jw_key(&w, "empty");
  jw_object(&w);
  jw_object_end(&w);
  jw_key(&w, "list");
  jw_array(&w);
  jw_array(&w);
  jw_array_end(&w);
  jw_bool(&w, 1);
  jw_bool(&w, 0);
  jw_null(&w);
  jw_value(&w, NULL);
  json_t *real = json_real(0.1);
  jw_value(&w, real);
  jw_array_end(&w);
  jw_object_end(&w);
  json_t *want = json_pack("{s:o, s:{}, s:[[], b, b, n, n, O]}", "ints", want_ints, "empty", "list", 1, 0, real);
  json_decref(real);
  CHECK(same_as(&w, want, "structure"));
  return 0;
}

/* jw_value walks jansson trees itself: the same text as json_dumps for
 * every kind of value, keys and strings with escapes and NUL bytes, reals
 * (left to jansson), nesting deeper than the writer tracks, and the same
 * failure for what jansson cannot print (a loop, a string that is not
 * UTF-8). */
static int test_values(void) {
  json_t *deep = json_pack("{s:i}", "bottom", 1);
  for (int i = 0; i < 40; i++) deep = i % 2 ? json_pack("{s:o, s:s}", "in", deep, "at", "x") : json_pack("[o, n]", deep);
  json_t *values[] = {
      json_pack("{s:i}", "n", 6),
      json_pack("[{s:s, s:n, s:i}]", "field", "n", "old", "new", 6),
      json_pack("{s:s, s:[i, f, b, b, n], s:{}, s:[]}", "t\u00e9xt \"q\"", "caf\xc3\xa9\n\x01", "list", -7, 0.1, 1, 0, "o",
                "a"),
      json_stringn("a\0b", 3),
      json_real(1e300),
      json_integer(INT64_MIN),
      json_true(),
      json_null(),
      json_pack("{s:f, s:[f]}", "x", 2.5, "y", -0.0),
      deep,
      NULL};
  json_t *keyed = json_object();
  json_object_setn_new(keyed, "k\0ey", 4, json_string("v"));
  json_object_set_new(keyed, "tab\tkey", json_integer(1));
  for (int i = 0; values[i]; i++) {
    jsonw w;
    jw_init(&w);
    jw_value(&w, values[i]);
    char what[32];
    snprintf(what, sizeof what, "value %d", i);
    CHECK(same_as(&w, values[i], what));
  }
  jsonw w;
  jw_init(&w);
  jw_value(&w, keyed);
  CHECK(same_as(&w, keyed, "keys"));
  /* inside a container: commas and keys around a walked value */
  jw_init(&w);
  jw_object(&w);
  jw_key(&w, "a");
  json_t *inner = json_pack("{s:[i, i], s:s}", "x", 1, 2, "y", "z");
  jw_value(&w, inner);
  jw_key(&w, "b");
  jw_value(&w, inner);
  jw_object_end(&w);
  CHECK(same_as(&w, json_pack("{s:O, s:o}", "a", inner, "b", inner), "members"));
  /* what jansson cannot print fails here too */
  json_t *loop = json_array();
  json_t *holder = json_array();
  json_array_append(holder, loop);
  json_array_append(loop, holder);
  jw_init(&w);
  jw_value(&w, loop);
  CHECK(jw_take(&w, NULL) == NULL);
  json_array_clear(loop);
  json_decref(holder);
  json_decref(loop);
  json_t *bad = json_string_nocheck("ok \xff bad");
  jw_init(&w);
  jw_value(&w, bad);
  CHECK(jw_take(&w, NULL) == NULL && json_dumps(bad, JSON_ENCODE_ANY) == NULL);
  json_decref(bad);
  return 0;
}

/* Stored texts: the writer's copy must be the dump of parse_json_text(). */
static int test_object_texts(void) {
  static const char *const texts[] = {
      "{}", "{\"a\":1}", "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":true,\"e\":false,\"f\":\"x\"}",
      "{ \"a\": 1 }", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":1E3}", "{\"a\":-0}", "{\"a\":-1}", "{\"a\":0}",
      "{\"a\":123456789012345678}", "{\"a\":1234567890123456789}", "{\"a\":99999999999999999999}",
      "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":2}}", "{\"\\u0041\":1}", "{\"a\":\"\\/\"}",
      "{\"a\":\"\\u001f\"}", "{\"a\":\"\\u001F\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\u000a\"}",
      "{\"a\":\"\\n\\t\\\"\\\\\"}", "{\"a\":\"caf\xc3\xa9\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\\ud83d\\ude00\"}",
      "[1,2]", "1", "\"s\"", "null", "", "{", "{\"a\":1}x", "{\"a\":1} ", "{\"a\":01}", "{\"a\":tru}",
      "{\"a\":[1,]}", "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "{\"a\":\"\t\"}", NULL};
  for (int i = 0; texts[i]; i++) {
    jsonw w;
    jw_init(&w);
    jw_array(&w);
    jw_object_text(&w, texts[i]);
    jw_object_text(&w, NULL);
    jw_array_end(&w);
    json_t *want = json_array();
    json_array_append_new(want, parse_json_text(texts[i]));
    json_array_append_new(want, parse_json_text(NULL));
    CHECK(same_as(&w, want, texts[i]));
  }
  /* an object of many keys (beyond the duplicate check's window) */
  char big[4096] = "{";
  for (int i = 0; i < 40; i++)
    snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"k%d\":%d", i ? "," : "", i % 35, i);
  strcat(big, "}");
  jsonw w;
  jw_init(&w);
  jw_object_text(&w, big);
  CHECK(same_as(&w, parse_json_text(big), "40 keys"));
  return 0;
}

/* --- task rows ------------------------------------------------------------------ */

/* Task t written by view_task_write (hidden errors for hide_for) against
 * view_task_json() (redacted as http_admin_redact does). */
static int same_task(engine *e, st_task *t, const fh_actor *hide_for) {
  jsonw w;
  jw_init(&w);
  view_task_write(&w, e, t, hide_for);
  jw_object_end(&w);
  json_t *want = view_task_json(e, t);
  if (hide_for) engine_admin_task_error_for(hide_for, want);
  char what[200];
  snprintf(what, sizeof what, "task %s (%s)", t->flow_task, t->type);
  return same_as(&w, want, what);
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

static int test_task_rows(void) {
  char dir[64] = "/tmp/flowhost-jsonw-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  int rc = 1;
  fh_actor bob = {.id = 2, .username = "bob", .is_active = 1, .perms = json_object(), .groups = json_array()};
  if (!e) goto out;
  st_task rows[12];
  int n = 0;
  rows[n++] = base_task("events.approve", "view", TASK_ASSIGNED);
  snprintf(rows[n - 1].owner_name, sizeof rows[0].owner_name, "bob");
  snprintf(rows[n - 1].assigned_at, sizeof rows[0].assigned_at, "2026-12-03T10:01:00.000Z");
  snprintf(rows[n - 1].due_at, sizeof rows[0].due_at, "2026-12-04T10:00:00.000Z");
  rows[n - 1].previous = "3,4";
  rows[n++] = base_task("events.approve", "timeout", TASK_SCHEDULED);
  snprintf(rows[n - 1].event_key, sizeof rows[0].event_key, "1");
  snprintf(rows[n - 1].event_name, sizeof rows[0].event_name, "remind");
  snprintf(rows[n - 1].due_at, sizeof rows[0].due_at, "2026-12-03T11:00:00.000Z");
  rows[n - 1].guards = 40;
  rows[n++] = base_task("events.wait_payment", "receive", TASK_STARTED);
  snprintf(rows[n - 1].event_name, sizeof rows[0].event_name, "payment");
  snprintf(rows[n - 1].event_key, sizeof rows[0].event_key, "order-\xc3\xa9");
  rows[n++] = base_task("events.wait_bell", "receive", TASK_STARTED);
  snprintf(rows[n - 1].event_name, sizeof rows[0].event_name, "bell");
  rows[n++] = base_task("external.render", "external", TASK_SCHEDULED);
  snprintf(rows[n - 1].event_name, sizeof rows[0].event_name, "pdf");
  snprintf(rows[n - 1].lease_owner, sizeof rows[0].lease_owner, "worker-1");
  snprintf(rows[n - 1].lease_until, sizeof rows[0].lease_until, "2026-12-03T10:05:00.000Z");
  rows[n - 1].attempts = 2;
  rows[n++] = base_task("events.slow_job", "job", TASK_ERROR);
  rows[n - 1].error_message = "boom: \"quoted\"\n\x01";
  rows[n - 1].error_traceback = "stack traceback:\n\t[C]: in ?";
  rows[n - 1].attempts = 5;
  rows[n++] = base_task("events.gone_node", "view", TASK_DONE);
  snprintf(rows[n - 1].finished_at, sizeof rows[0].finished_at, "2026-12-03T12:00:00.000Z");
  rows[n - 1].error_message = "no traceback";
  rows[n++] = base_task("nosuchflow.step", "view", TASK_CANCELED);
  rows[n - 1].data = "{ \"spaced\": 1.25 }";
  rows[n++] = base_task("nodot", "view", TASK_NEW);
  rows[n - 1].data = NULL;
  rows[n++] = base_task("events.approve", "foreach", TASK_STARTED);
  rows[n - 1].child_id = 99;
  rows[n - 1].group_id = 98;
  rows[n - 1].data = "[1]";
  for (int i = 0; i < n; i++) {
    if (!same_task(e, &rows[i], NULL) || !same_task(e, &rows[i], &bob)) goto out;
    fh_actor admin = {.id = 1, .is_admin = 1, .is_active = 1};
    if (!same_task(e, &rows[i], &admin)) goto out;
  }
  rc = 0;
out:
  json_decref(bob.perms);
  json_decref(bob.groups);
  close_fixture_engine(e, reg, dir);
  CHECK(rc == 0);
  return 0;
}

/* --- process rows ------------------------------------------------------------ */

/* Process p written by proclist_write_process against view_process_json(). */
static int same_process(engine *e, const st_process *p) {
  jsonw w;
  jw_init(&w);
  proclist_write_process(&w, e, p);
  char what[100];
  snprintf(what, sizeof what, "process %lld of %s", (long long)p->id, p->flow);
  return same_as(&w, view_process_json(e, p), what);
}

static int test_process_rows(void) {
  char dir[64] = "/tmp/flowhost-jsonw-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  flowreg *reg = NULL;
  engine *e = open_fixture_engine(dir, &reg);
  int rc = 1;
  if (!e) goto out;
  st_process rows[6];
  for (int i = 0; i < 6; i++) {
    rows[i] = (st_process){.id = 7 + i, .status = PROC_STARTED, .version = 1};
    snprintf(rows[i].flow, sizeof rows[i].flow, "steps");
    snprintf(rows[i].created_at, sizeof rows[i].created_at, "2026-12-03T10:00:00.000Z");
    rows[i].data = "{\"note\":\"a \\\"b\\\"\",\"n\":3}";
  }
  snprintf(rows[0].created_by_name, sizeof rows[0].created_by_name, "alice");
  rows[1].status = PROC_DONE;   /* finished, started by the system */
  snprintf(rows[1].finished_at, sizeof rows[1].finished_at, "2026-12-03T11:00:00.000Z");
  rows[2].parent_id = 3;        /* a child */
  rows[2].parent_task_id = 30;
  rows[3].data = "{ \"spaced\": 1.25, \"caf\xc3\xa9\": [] }";   /* not canonical: re-read */
  rows[4].data = "[1]";         /* not an object: {} */
  snprintf(rows[5].flow, sizeof rows[5].flow, "nosuchflow");
  for (int i = 0; i < 6; i++) {
    /* computed, then from the cache, then computed again for a new version */
    if (!same_process(e, &rows[i]) || !same_process(e, &rows[i])) goto out;
    rows[i].version++;
    if (!same_process(e, &rows[i])) goto out;
  }
  rc = 0;
out:
  close_fixture_engine(e, reg, dir);
  CHECK(rc == 0);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {{"strings", test_strings},
                                    {"structure", test_structure},
                                    {"values", test_values},
                                    {"object_texts", test_object_texts},
                                    {"task_rows", test_task_rows},
                                    {"process_rows", test_process_rows},
                                    {NULL, NULL}};
  return test_main(tests, argc, argv);
}
