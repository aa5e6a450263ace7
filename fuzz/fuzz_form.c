/* fuzz_form — arbitrary bytes as the JSON body of a form.
 *
 * The first byte picks a target (a start node or a task of the example
 * flows and of tests/fixtures/flows), the rest is the request body.  It goes
 * the way of POST /api/flows/{flow}/start/{node} and
 * POST /api/tasks/{id}/execute|reassign: json_loadb with the HTTP layer's
 * checks (an object, only the allowed keys, "data" an object or null), then
 * engine_start / engine_task_action on an in-memory database, i.e. the whole
 * validation path: luavm_push_json, flow.clean in Lua, the flow's validate
 * and callbacks, luavm_to_json, the store.  A successful action is read
 * back (engine_process_get, engine_task_get) as the UI would.
 *
 * Errors are expected; a crash, a sanitizer report, a leak, or an answer
 * that breaks the engine's contract (no output on success, no code on
 * error, "invalid" without fields) is a bug.
 *
 * Seeds (fuzz/seeds/form) start with the target as an ASCII digit or letter:
 * "0{\"data\": {...}}".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "engine.h"
#include "flowreg.h"

#ifndef FLOWHOST_SOURCE_DIR
#define FLOWHOST_SOURCE_DIR "."
#endif

enum { EXAMPLES, FIXTURES, NREGS };
static const char *const FLOW_DIRS[NREGS] = {FLOWHOST_SOURCE_DIR "/flows", FLOWHOST_SOURCE_DIR "/tests/fixtures/flows"};

typedef struct step {
  const char *node;
  const char *data;    /* JSON of "data" for execute */
} step;

typedef struct target {
  int reg;
  const char *flow;
  const char *start;        /* start node */
  const char *start_data;   /* NULL: the body goes to the start itself */
  step steps[2];            /* executed after the start, before the action */
  const char *node;         /* task the body goes to */
  const char *action;       /* "execute" or "reassign" */
} target;

static const target TARGETS[] = {
    {EXAMPLES, "helloworld", "start", NULL, {{0}}, NULL, NULL},
    {EXAMPLES, "shipment", "start", NULL, {{0}}, NULL, NULL},
    {EXAMPLES, "helloworld", "start", "{\"text\": \"hi\"}", {{0}}, "approve", "execute"},
    {EXAMPLES, "shipment", "start", "{\"customer_name\": \"A\", \"address\": \"B\", \"weight\": 1}", {{0}},
     "set_shipment_type", "execute"},
    {EXAMPLES, "shipment", "start", "{\"customer_name\": \"A\", \"address\": \"B\", \"weight\": 1}", {{0}},
     "package_goods", "execute"},
    {EXAMPLES, "shipment", "start", "{\"customer_name\": \"A\", \"address\": \"B\", \"weight\": 1}",
     {{"set_shipment_type", "{\"carrier\": \"dhl\"}"}}, "request_quotes", "execute"},
    {EXAMPLES, "shipment", "start", "{\"customer_name\": \"A\", \"address\": \"B\", \"weight\": 1}",
     {{"set_shipment_type", "{\"carrier\": \"default\", \"need_insurance\": true}"}}, "request_insurance", "execute"},
    {EXAMPLES, "helloworld", "start", "{\"text\": \"hi\"}", {{0}}, "approve", "reassign"},
    {FIXTURES, "functions", "by_code", NULL, {{0}}, NULL, NULL},
    {FIXTURES, "functions", "plain", NULL, {{0}}, NULL, NULL},
    {FIXTURES, "functions", "plain", "{}", {{0}}, "wait", "execute"},
    {FIXTURES, "functions", "plain", "{}", {{"wait", "{}"}}, "bare", "execute"},
    {FIXTURES, "forms", "start", NULL, {{0}}, NULL, NULL},
    {FIXTURES, "forms", "start", "{\"text\": \"x\"}", {{0}}, "review", "execute"},
};
#define NTARGETS (sizeof TARGETS / sizeof TARGETS[0])

static flowreg *regs[NREGS];
static engine *engines[NREGS];
static fh_actor alice;   /* admin: passes every permission */
static unsigned runs;

static void fail(const char *what, const fherr *err) {
  fprintf(stderr, "fuzz_form: %s: %s\n", what, err ? err->message : "");
  abort();
}

static void open_engines(void) {
  fherr err = {0};
  for (int i = 0; i < NREGS; i++) {
    engine_close(engines[i]);
    engine_options eo = {.flows = regs[i], .db_path = ":memory:", .synchronous_full = 0, .budget_seconds = 1};
    if (engine_open(&eo, &engines[i], &err)) fail("engine_open", &err);
    engine *e = engines[i];
    if (identity_user_add(e, "alice", NULL, 1, &err) || identity_user_add(e, "bob", NULL, 0, &err) ||
        identity_grant(e, "bob", "helloworld.approve", &err))
      fail("users", &err);
  }
  fh_actor_free(&alice);
  if (identity_actor(engines[0], "alice", &alice, &err)) fail("identity_actor", &err);
}

static void setup(void) {
  fherr err = {0};
  for (int i = 0; i < NREGS; i++) {
    regs[i] = flowreg_new(FLOW_DIRS[i], FLOWHOST_SOURCE_DIR "/lua", &err);
    if (!regs[i] || flowreg_load_all(regs[i], &err)) fail("flowreg", &err);
  }
  open_engines();
}

/* The id of the open task of `node` in process pid, or 0. */
static int64_t task_of(engine *e, int64_t pid, const char *node) {
  json_t *out = NULL;
  fherr err = {0};
  if (engine_process_get(e, &alice, pid, &out, &err)) fail("engine_process_get", &err);
  int64_t id = 0;
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(out, "tasks"), i, t) {
    const char *status = json_string_value(json_object_get(t, "status"));
    if (!strcmp(json_string_value(json_object_get(t, "node")), node) &&
        (!strcmp(status, "NEW") || !strcmp(status, "ASSIGNED")))
      id = json_integer_value(json_object_get(t, "id"));
  }
  json_decref(out);
  return id;
}

/* Takes the task (a view) and returns its id; 0 if there is none. */
static int64_t take(engine *e, int64_t pid, const char *node) {
  int64_t id = task_of(e, pid, node);
  json_t *out = NULL;
  fherr err = {0};
  if (id && engine_task_action(e, &alice, id, "assign", NULL, &out, &err) && err.code != FH_CONFLICT)
    fail("assign", &err);
  fherr_clear(&err);
  json_decref(out);
  return id;
}

/* Checks the engine's contract on one answer, then reads the result back. */
static void check_answer(engine *e, int rc, json_t *out, fherr *err, int64_t task_id) {
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s %s\n", fherr_code_name(rc), rc ? err->message : "");
  if (rc == FH_OK) {
    if (!out) fail("success without output", err);
    char *text = json_dumps(out, JSON_COMPACT);
    if (!text) fail("output is not JSON", err);
    free(text);
    json_t *again = NULL;
    int64_t pid = json_integer_value(json_object_get(json_object_get(out, "process"), "id"));
    if (engine_process_get(e, &alice, pid, &again, err)) fail("process_get after success", err);
    json_decref(again);
    again = NULL;
    if (task_id && engine_task_get(e, &alice, task_id, &again, err)) fail("task_get after success", err);
    json_decref(again);
  } else {
    if (out) fail("error with output", err);
    if (!err->code || !err->message[0]) fail("error without code or message", err);
    if (rc == FH_INVALID && !json_is_object(err->fields)) fail("invalid without fields", err);
    if (rc == FH_INTERNAL) fail("internal error", err);
  }
  json_decref(out);
  fherr_clear(err);
}

/* The body as the HTTP layer takes it: a JSON object with allowed keys. */
static json_t *load_body(const uint8_t *data, size_t size, const char *allowed) {
  json_error_t jerr;
  json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(body)) {
    json_decref(body);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    if (strcmp(k, allowed)) {
      json_decref(body);
      return NULL;
    }
  }
  json_t *d = json_object_get(body, "data");
  if (d && !json_is_object(d) && !json_is_null(d)) {
    json_decref(body);
    return NULL;
  }
  if (json_is_null(d)) json_object_del(body, "data");
  return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!regs[0]) setup();
  if (++runs % 250 == 0) open_engines();   /* keep the in-memory databases small */
  if (size < 1) return 0;
  const target *t = &TARGETS[(uint8_t)(data[0] - '0') % NTARGETS];
  engine *e = engines[t->reg];
  json_t *body = load_body(data + 1, size - 1, t->action && !strcmp(t->action, "reassign") ? "user" : "data");
  if (!body) return 0;
  json_t *out = NULL;
  fherr err = {0};
  if (!t->node) {
    int rc = engine_start(e, &alice, t->flow, t->start, json_object_get(body, "data"), &out, &err);
    check_answer(e, rc, out, &err, 0);
    json_decref(body);
    return 0;
  }

  json_t *start_data = json_loads(t->start_data, 0, NULL);
  int rc = engine_start(e, &alice, t->flow, t->start, start_data, &out, &err);
  json_decref(start_data);
  if (rc) fail("setup start", &err);
  int64_t pid = json_integer_value(json_object_get(json_object_get(out, "process"), "id"));
  json_decref(out);
  for (int i = 0; i < 2 && t->steps[i].node; i++) {
    int64_t id = take(e, pid, t->steps[i].node);
    json_t *args = json_pack("{s:o}", "data", json_loads(t->steps[i].data, 0, NULL));
    if (!id || engine_task_action(e, &alice, id, "execute", args, &out, &err)) fail("setup step", &err);
    json_decref(args);
    json_decref(out);
  }
  int64_t id = take(e, pid, t->node);
  if (!id) fail("no task for the target", NULL);
  if (!strcmp(t->action, "reassign") && !json_is_string(json_object_get(body, "user"))) {
    json_decref(body);
    return 0;
  }
  out = NULL;
  rc = engine_task_action(e, &alice, id, t->action, body, &out, &err);
  check_answer(e, rc, out, &err, id);
  json_decref(body);
  return 0;
}
