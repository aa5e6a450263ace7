/* Unit tests of the Lua gateway: errors with location and traceback, the
 * time budget that pcall cannot swallow, the memory limit stepped up until
 * a flow loads, JSON <-> Lua round trips. */
#include <lauxlib.h>
#include <stdlib.h>

#include "luaside.h"
#include "flowdef.h"
#include "luavm.h"
#include "test.h"

static luavm *vm_new(size_t limit, double budget) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  static char lua[512], flows[512];
  snprintf(lua, sizeof lua, "%s/lua", src);
  snprintf(flows, sizeof flows, "%s/flows", src);
  luavm_options opt = {.lua_dir = lua, .flows_dir = flows, .memory_limit = limit, .budget_seconds = budget};
  return luavm_new(&opt, NULL);
}

static int run_chunk(luavm *vm, const char *code, fherr *err) {
  int rc = luavm_load(vm, code, strlen(code), "=test", err);
  return rc ? rc : luavm_pcall(vm, 0, 0, err);
}

static int test_error_location(void) {
  luavm *vm = vm_new(0, 1);
  CHECK(vm);
  fherr err = {0};
  CHECK(run_chunk(vm, "local x = nil\nreturn x.y", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "attempt to index"));
  CHECK_STR(err.file, "test");
  CHECK(err.line == 2);
  CHECK(err.traceback && strstr(err.traceback, "stack traceback"));
  fherr_clear(&err);
  CHECK(run_chunk(vm, "error({message = 'bad thing', file = 'f.lua', line = 7})", &err) == FH_FLOW_ERROR);
  CHECK_STR(err.message, "f.lua:7: bad thing");
  CHECK(err.line == 7);
  fherr_clear(&err);
  CHECK(run_chunk(vm, "error(setmetatable({}, {}))", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "without message"));
  fherr_clear(&err);
  CHECK(luavm_load(vm, "return (", 8, "=broken", &err) == FH_FLOW_ERROR);
  CHECK(err.line == 1);
  fherr_clear(&err);
  CHECK(lua_gettop(luavm_state(vm)) == 0);   /* nothing left behind */
  luavm_free(vm);
  return 0;
}

static int test_budget(void) {
  luavm *vm = vm_new(0, 0.2);
  fherr err = {0};
  /* a loop that tries to swallow the budget error with pcall */
  CHECK(run_chunk(vm, "while true do pcall(function() while true do end end) end", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "time budget"));
  fherr_clear(&err);
  /* the state is usable afterwards, with a fresh budget */
  CHECK(run_chunk(vm, "local s = 0 for i = 1, 1000 do s = s + i end", &err) == FH_OK);
  luavm_free(vm);
  return 0;
}

static int test_memory_limit_steps(void) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char path[512];
  snprintf(path, sizeof path, "%s/flows/shipment.lua", src);
  FILE *f = fopen(path, "rb");
  CHECK(f);
  static char code[1 << 16];
  size_t len = fread(code, 1, sizeof code - 1, f);
  fclose(f);
  int failures = 0, loaded = 0;
  for (size_t limit = 32 << 10; limit < (64 << 20) && !loaded; limit += 24 << 10) {
    luavm *vm = vm_new(limit, 1);
    if (!vm) {
      failures++;
      continue;
    }
    fherr err = {0};
    flowdef *fd = NULL;
    int rc = flowdef_load(vm, "shipment", path, code, len, &fd, &err);
    if (rc == FH_OK) {
      loaded = 1;
      CHECK(fd && fd->nnodes > 5);
    } else {
      CHECK(rc == FH_FLOW_ERROR || rc == FH_INTERNAL);
      CHECK(err.message[0]);
      failures++;
    }
    flowdef_free(fd);
    fherr_clear(&err);
    luavm_free(vm);
  }
  CHECK(loaded);
  CHECK(failures > 0);   /* the small limits really failed, cleanly */
  return 0;
}

static int test_json_round_trip(void) {
  luavm *vm = vm_new(0, 1);
  lua_State *L = luavm_state(vm);
  json_t *in = json_loads("{\"s\":\"x\",\"i\":3,\"f\":1.5,\"b\":false,\"a\":[1,2,{\"k\":\"v\"}],\"o\":{},\"n\":null}", 0, NULL);
  CHECK(in);
  luavm_push_json(L, in);
  json_t *out = NULL;
  fherr err = {0};
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_OK);
  json_object_del(in, "n");   /* null becomes an absent key */
  CHECK(json_equal(in, out));
  json_decref(out);
  lua_pop(L, 1);
  /* functions and cycles are refused, not crashed on */
  CHECK(luaL_dostring(L, "local t = {} t.self = t return t") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return {f = print}") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return {[true] = 1}") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return 0/0") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  json_decref(in);
  luavm_free(vm);
  return 0;
}

static const test_case TESTS[] = {
    {"error_location", test_error_location},
    {"budget", test_budget},
    {"memory_limit_steps", test_memory_limit_steps},
    {"json_round_trip", test_json_round_trip},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
