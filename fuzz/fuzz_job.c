/* fuzz_job — arbitrary bytes as what a background job leaves behind.
 *
 * The input is read as JSON (any value; bytes that are no JSON go in as
 * one string when they are UTF-8) and handed to the flow fuzz/flows/jobret.lua,
 * whose Job builds Lua values from it by a small recipe language (NaN,
 * infinities, functions, cycles, sparse and mixed tables, odd keys, bytes
 * that are not UTF-8, big strings, deleted keys) and leaves them in the
 * process data, the task data and as its return value.  Through the real
 * engine on an in-memory database: engine_start, then engine_run_due runs
 * the job (luavm_to_json of what it left, merge_job_changes, the store's
 * write), then the process is read back as the API would.  The job may
 * fail (its task in ERROR) or finish (the process DONE); a crash, a
 * sanitizer report, a leak, an internal error, a process left in between,
 * or an answer that is not JSON is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "flowreg.h"
#include "fhtime.h"

#ifndef FLOWHOST_SOURCE_DIR
#define FLOWHOST_SOURCE_DIR "."
#endif

static flowreg *reg;
static engine *eng;
static fh_actor sys;
static unsigned runs;

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_job: %s: %.2000s\n", what, detail ? detail : "");
  abort();
}

static void open_engine(void) {
  fherr err = {0};
  engine_close(eng);
  engine_options eo = {.flows = reg, .db_path = ":memory:", .synchronous_full = 0, .budget_seconds = 1};
  if (engine_open(&eo, &eng, &err)) fail("engine_open", err.message);
}

static void setup(void) {
  fherr err = {0};
  reg = flowreg_new(FLOWHOST_SOURCE_DIR "/fuzz/flows", FLOWHOST_SOURCE_DIR "/lua", &err);
  if (!reg || flowreg_load_all(reg, &err)) fail("flowreg", err.message);
  fh_actor_system(&sys);
  open_engine();
}

/* The input as a JSON value; NULL when it is neither JSON nor UTF-8 text. */
static json_t *input_of(const uint8_t *data, size_t size) {
  json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  return v ? v : json_stringn((const char *)data, size);
}

/* The process after its job ran: DONE, or its job task in ERROR. */
static void check_process(int64_t pid) {
  json_t *out = NULL;
  fherr err = {0};
  if (engine_process_get(eng, &sys, pid, &out, &err)) fail("process_get", err.message);
  char *text = json_dumps(out, JSON_COMPACT);
  if (!text) fail("the process is not JSON", NULL);
  const char *status = json_string_value(json_object_get(json_object_get(out, "process"), "status"));
  int error = 0;
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(out, "tasks"), i, t) error |= !strcmp(json_string_value(json_object_get(t, "status")), "ERROR");
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s\n", text);
  if (strcmp(status, "DONE") && !error) fail("the job left its process in between", text);
  free(text);
  json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!reg) setup();
  if (++runs % 250 == 0) open_engine();   /* keeps the in-memory database small */
  if (size > 64 * 1024) return 0;
  json_t *input = input_of(data, size);
  if (!input) return 0;
  json_t *start = json_pack("{s:o}", "input", input), *out = NULL;
  fherr err = {0};
  int rc = engine_start(eng, &sys, "jobret", "start", start, &out, &err);
  json_decref(start);
  if (rc == FH_INTERNAL) fail("start", err.message);
  int64_t pid = rc ? 0 : json_integer_value(json_object_get(json_object_get(out, "process"), "id"));
  json_decref(out);
  fherr_clear(&err);
  if (!pid) return 0;   /* the start refused the input (a flow error): nothing to run */
  int ran = 0;
  if (engine_run_due(eng, 10, &ran, &err)) fail("run_due", err.message);
  if (ran < 1) fail("the job did not run", NULL);
  check_process(pid);
  return 0;
}
