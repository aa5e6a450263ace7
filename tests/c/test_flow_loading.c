/* Flows loaded into an engine's Lua state on first use (host/engine.c's
 * load_on_use, flowdef.c's lookups): a new engine holds none of the flows
 * it serves; a start loads its flow and no other; an edited flow is dropped
 * from a state that held it and its next use runs the new text, as does
 * the first use of a flow edited before it was ever used there; a flow
 * removed from the folder is gone from the state.  (The loader asked once
 * per flow: test_luavm's flow_loader.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"
#include "flowdef.h"
#include "test.h"

#define FLOW(value)                                                                 \
  "local flow = require 'flow'\n"                                                   \
  "local this = flow.this\n"                                                        \
  "return flow.Flow {\n"                                                            \
  "  start = flow.StartFunction(this.go):Next(this.finish),\n"                      \
  "  finish = flow.End(),\n"                                                        \
  "  go = function(self, activation) activation.process.data.v = '" value "' end,\n" \
  "}\n"

typedef struct fixture {
  char dir[48], flows[96], db[96];
  flowreg *reg;
  engine *e;
  fh_actor sys;
} fixture;

static int write_flow(fixture *f, const char *name, const char *text) {
  char path[160];
  snprintf(path, sizeof path, "%s/%s.lua", f->flows, name);
  FILE *fp = fopen(path, "w");
  if (!fp) return -1;
  fputs(text, fp);
  return fclose(fp);
}

static int fixture_open(fixture *f) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/flowhost-loading-XXXXXX");
  CHECK(mkdtemp(f->dir));
  snprintf(f->flows, sizeof f->flows, "%s/flows", f->dir);
  snprintf(f->db, sizeof f->db, "%s/db", f->dir);
  CHECK(mkdir(f->flows, 0700) == 0);
  CHECK(write_flow(f, "a", FLOW("a1")) == 0);
  CHECK(write_flow(f, "b", FLOW("b1")) == 0);
  CHECK(write_flow(f, "c", FLOW("c1")) == 0);
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char lua[512];
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  f->reg = flowreg_new(f->flows, lua, &err);
  CHECK(f->reg && flowreg_load_all(f->reg, &err) == FH_OK);
  engine_options eo = {.flows = f->reg, .db_path = f->db};
  CHECK(engine_open(&eo, &f->e, &err) == FH_OK);
  CHECK(engine_sync_flows(f->e, &err) == FH_OK);
  fh_actor_system(&f->sys);
  return 0;
}

static void fixture_close(fixture *f) {
  if (f->e) engine_close(f->e);
  if (f->reg) flowreg_free(f->reg);
  char path[160];
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s.lua", f->flows, names[i]);
    unlink(path);
  }
  rmdir(f->flows);
  test_remove_db(f->db);
  rmdir(f->dir);
}

/* Starts flow and returns what its handler wrote to data.v ("" on failure). */
static const char *start_v(fixture *f, const char *flow, char *out, size_t cap) {
  fherr err = {0};
  json_t *res = NULL;
  out[0] = '\0';
  if (engine_start(f->e, &f->sys, flow, "start", NULL, &res, &err) == FH_OK) {
    const char *v = json_string_value(json_object_get(json_object_get(json_object_get(res, "process"), "data"), "v"));
    snprintf(out, cap, "%s", v ? v : "");
  } else {
    fprintf(stderr, "  start %s: %s\n", flow, err.message);
  }
  json_decref(res);
  fherr_clear(&err);
  return out;
}

static int loaded(fixture *f, const char *flow) { return flowdef_is_loaded(f->e->vm, flow); }

static int test_on_first_use(void) {
  fixture f;
  CHECK(fixture_open(&f) == 0);
  CHECK(!loaded(&f, "a") && !loaded(&f, "b") && !loaded(&f, "c"));
  char v[16];
  CHECK(!strcmp(start_v(&f, "a", v, sizeof v), "a1"));
  CHECK(loaded(&f, "a") && !loaded(&f, "b") && !loaded(&f, "c"));
  CHECK(!strcmp(start_v(&f, "c", v, sizeof v), "c1"));
  CHECK(loaded(&f, "a") && !loaded(&f, "b") && loaded(&f, "c"));
  fixture_close(&f);
  return 0;
}

static int test_edit_and_remove(void) {
  fixture f;
  CHECK(fixture_open(&f) == 0);
  char v[16];
  CHECK(!strcmp(start_v(&f, "a", v, sizeof v), "a1"));
  CHECK(!strcmp(start_v(&f, "b", v, sizeof v), "b1"));
  /* a edited, b removed, c edited without ever having been used here */
  CHECK(write_flow(&f, "a", FLOW("a2")) == 0);
  CHECK(write_flow(&f, "c", FLOW("c2")) == 0);
  char path[160];
  snprintf(path, sizeof path, "%s/b.lua", f.flows);
  CHECK(unlink(path) == 0);
  fherr err = {0};
  int changed = 0;
  CHECK(flowreg_rescan(f.reg, 1, &changed, &err) == FH_OK && changed);
  CHECK(engine_sync_flows(f.e, &err) == FH_OK);
  CHECK(!loaded(&f, "a") && !loaded(&f, "b") && !loaded(&f, "c"));
  CHECK(!strcmp(start_v(&f, "a", v, sizeof v), "a2"));
  CHECK(!strcmp(start_v(&f, "c", v, sizeof v), "c2"));
  json_t *res = NULL;
  CHECK(engine_start(f.e, &f.sys, "b", "start", NULL, &res, &err) != FH_OK);   /* gone */
  fherr_clear(&err);
  CHECK(!loaded(&f, "b"));
  fixture_close(&f);
  return 0;
}

static const test_case TESTS[] = {
    {"on_first_use", test_on_first_use},
    {"edit_and_remove", test_edit_and_remove},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
